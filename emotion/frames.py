"""Frame-level acoustic analysis at the telephone rate (8 kHz), batch or streaming.

All audio is resampled to :data:`ANALYSIS_RATE` first, so a 48 kHz studio clip, a 16 kHz stream
and an 8 kHz mu-law phone leg are measured in the same 0-4 kHz band. Frames are 50 ms long with a
10 ms hop; per frame we keep:

* ``energy_db`` - mean-square level of the first 32 ms (dB re full scale),
* ``f0``, ``aperiodicity``, ``hnr_db`` - YIN pitch and periodicity (:mod:`emotion.pitch`),
* ``centroid_hz`` - spectral centroid over 100-3800 Hz,
* ``alpha_db`` - spectral tilt as the alpha ratio, energy 50-1000 Hz over 1000-3800 Hz (dB),
* ``flux`` - change of the level-normalised magnitude spectrum from the previous frame,
* ``band_db`` - level in 300-2500 Hz (the syllable-nucleus envelope),
* ``shape_db`` - spectral shape: log energy of :data:`N_SHAPE` mel bands (100-3800 Hz) minus
  their mean (dB; a 2-D array, one column per band; gain invariant),
* ``tel_centroid_hz``, ``tel_alpha_db`` (300-1000 over 1000-3400 Hz), ``tel_flux``,
  ``tel_shape_db`` - the same four measured over the telephone band only (:data:`TEL_BAND`).

Two spectral front ends, one FFT: the **wide** band (:data:`WIDE_BAND`, 100-3800 Hz) feeds the
absolute (no-baseline) scorer, the **telephone** band (300-3400 Hz) the baseline scorer. Chosen on
the tuning speakers (README, "Stress per line condition"): against the wide band, the telephone band
raised the tuning CASIA speakers' AUC with a baseline from 0.787 to 0.826; for the absolute scorer
it let 6 more of 84 calm clips move by more than 10 points across gains and codecs. The telephone
front end also takes the line's noise off (:data:`NOISE_OVERSUBTRACT`, model v8); the wide one does
not (taken off there too, the calm clips scored higher on a quiet mu-law line).

:class:`FrameAnalyzer` is incremental: pushing a signal in pieces yields the same frames as pushing
it at once (up to the streaming resampler), which is how clip scoring and live scoring agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from emotion.pitch import FloatArray, yin_frames

ANALYSIS_RATE = 8000
HOP = 80  # 10 ms
WIN = 256  # 32 ms analysis window (spectrum, energy, YIN integration window)
FMIN = 60.0
FMAX = 500.0
FRAME = 400  # WIN + longest YIN lag (8000 / 60 = 134) + margin
FRAME_RATE = ANALYSIS_RATE / HOP  # frames per second
#: level floor: anything quieter is digital silence (-140 dBFS, far below 16-bit PCM's -96 dBFS, so
#: a clip 40 dB down is measured like the clip itself)
FLOOR_DB = -140.0
#: every frame's power spectrum is floored this far below its strongest bin before the spectral
#: measurements (centroid, alpha ratio, flux, mel shape): G.711 quantisation noise (about 38 dB
#: below the signal at full level, spread over 128 bins; less on a quiet line) and 48 kHz studio
#: detail then read the same
SPECTRAL_RANGE_DB = 30.0
#: the telephone front end also takes the line's noise off: each FFT bin's power, smoothed over
#: frames (:data:`NOISE_SMOOTH` per hop), is followed by its running minimum, which may rise
#: :data:`NOISE_RISE_DB_S` per second (causal: the same in any chunking), and
#: :data:`NOISE_OVERSUBTRACT` times that is taken off every frame's power spectrum before the
#: floor above. A quiet G.711 line's quantisation noise and a line's hiss then fill less of the
#: bands where calm speech is weak (README, "The line's noise taken off the baseline scorer's spectra")
NOISE_SMOOTH = 0.7
NOISE_RISE_DB_S = 5.0
NOISE_OVERSUBTRACT = 2.0

_FREQS = np.fft.rfftfreq(WIN, 1.0 / ANALYSIS_RATE)
_HANN = np.hanning(WIN)
_NUC = (_FREQS >= 300) & (_FREQS <= 2500)
#: mel bands of the spectral-shape measurement
N_SHAPE = 16


def _mel_filters(n: int, fmin: float = 100.0, fmax: float = 3800.0) -> FloatArray:
    """Triangular mel filters (HTK mel scale) on the analysis FFT bins, one column per band."""

    def mel(f: FloatArray) -> FloatArray:
        return 2595.0 * np.log10(1.0 + f / 700.0)

    edges_mel = np.linspace(mel(np.array(fmin)), mel(np.array(fmax)), n + 2)
    edges = 700.0 * (10 ** (edges_mel / 2595.0) - 1.0)
    fb = np.zeros((len(_FREQS), n))
    for i in range(n):
        lo, mid, hi = edges[i], edges[i + 1], edges[i + 2]
        up = (_FREQS - lo) / (mid - lo)
        down = (hi - _FREQS) / (hi - mid)
        fb[:, i] = np.maximum(0.0, np.minimum(up, down))
    return fb


@dataclass(frozen=True, eq=False)
class SpectralBand:
    """Where one spectral front end looks: its band, the alpha ratio's low part, its mel filters."""

    lo_hz: float
    hi_hz: float
    alpha_lo_hz: float
    #: measured on spectra with the line's noise taken off (:data:`NOISE_OVERSUBTRACT`)
    denoised: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "band", (self.lo_hz <= _FREQS) & (self.hi_hz >= _FREQS))
        object.__setattr__(self, "low", (self.alpha_lo_hz <= _FREQS) & (_FREQS < 1000))
        object.__setattr__(self, "high", (_FREQS >= 1000) & (self.hi_hz >= _FREQS))
        object.__setattr__(self, "shape", _mel_filters(N_SHAPE, self.lo_hz, self.hi_hz))

    band: npt.NDArray[np.bool_] = field(init=False, repr=False)
    low: npt.NDArray[np.bool_] = field(init=False, repr=False)
    high: npt.NDArray[np.bool_] = field(init=False, repr=False)
    shape: FloatArray = field(init=False, repr=False)


#: the absolute scorer's front end (model v3's band)
WIDE_BAND = SpectralBand(100.0, 3800.0, 50.0)
#: the baseline scorer's front end: the telephone band, whatever the input, the line's noise taken
#: off (model v8)
TEL_BAND = SpectralBand(300.0, 3400.0, 300.0, denoised=True)
#: each front end's four per-frame fields, wide then telephone
SPECTRAL_FIELDS = {
    "": ("centroid_hz", "alpha_db", "flux", "shape_db"),
    "tel_": ("tel_centroid_hz", "tel_alpha_db", "tel_flux", "tel_shape_db"),
}
_FRONT_ENDS = {"": WIDE_BAND, "tel_": TEL_BAND}

FIELDS = (
    "energy_db",
    "f0",
    "aperiodicity",
    "hnr_db",
    "centroid_hz",
    "alpha_db",
    "flux",
    "band_db",
    "shape_db",
    "tel_centroid_hz",
    "tel_alpha_db",
    "tel_flux",
    "tel_shape_db",
)


@dataclass(frozen=True, slots=True)
class Frames:
    """Per-frame measurements; every array has one entry per 10 ms frame starting at ``t0``."""

    t0: float
    energy_db: FloatArray
    f0: FloatArray
    aperiodicity: FloatArray
    hnr_db: FloatArray
    centroid_hz: FloatArray
    alpha_db: FloatArray
    flux: FloatArray
    band_db: FloatArray
    shape_db: FloatArray
    tel_centroid_hz: FloatArray
    tel_alpha_db: FloatArray
    tel_flux: FloatArray
    tel_shape_db: FloatArray

    def __len__(self) -> int:
        return int(self.energy_db.shape[0])

    @property
    def times(self) -> FloatArray:
        """Centre time of every frame in seconds (same clock as ``t0``)."""
        return self.t0 + (np.arange(len(self)) * HOP + WIN / 2) / ANALYSIS_RATE

    def slice(self, start: int, stop: int) -> Frames:
        start = max(0, start)
        return Frames(
            t0=self.t0 + start / FRAME_RATE,
            **{name: getattr(self, name)[start:stop] for name in FIELDS},
        )

    @staticmethod
    def concat(parts: list[Frames], t0: float = 0.0) -> Frames:
        if not parts:
            return empty_frames(t0)
        return Frames(
            t0=parts[0].t0,
            **{name: np.concatenate([getattr(p, name) for p in parts]) for name in FIELDS},
        )


def empty_frames(t0: float = 0.0) -> Frames:
    arrays = {name: np.zeros(0) for name in FIELDS}
    arrays["shape_db"] = np.zeros((0, N_SHAPE))
    arrays["tel_shape_db"] = np.zeros((0, N_SHAPE))
    return Frames(t0, **arrays)


#: the last normalised magnitude spectrum of each front end (for the next frame's flux)
PrevSpectra = dict[str, FloatArray]


def _spectral(
    spec: FloatArray, fe: SpectralBand, prev: FloatArray | None
) -> tuple[tuple[FloatArray, FloatArray, FloatArray, FloatArray], FloatArray | None]:
    """Centroid, alpha ratio, flux and mel shape of floored power spectra over one front end."""
    band = spec[:, fe.band]
    band_sum = band.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        centroid = np.where(band_sum > 0, (band * _FREQS[fe.band]).sum(axis=1) / band_sum, 0.0)
    alpha_db = 10.0 * np.log10(spec[:, fe.low].sum(axis=1) / spec[:, fe.high].sum(axis=1))
    mel_db = 10.0 * np.log10(spec @ fe.shape)
    shape_db = mel_db - mel_db.mean(axis=1, keepdims=True)
    mag = np.sqrt(band)
    norm = mag / mag.sum(axis=1, keepdims=True)
    before = np.concatenate([norm[:1] if prev is None else prev[None, :], norm[:-1]])
    flux = np.sqrt(((norm - before) ** 2).sum(axis=1)) if len(norm) else np.zeros(0)
    last = norm[-1].copy() if len(norm) else prev
    return (centroid, alpha_db, flux, shape_db), last


def _smoothed(raw: FloatArray, prev: FloatArray) -> FloatArray:
    """``y[t] = a * y[t-1] + (1 - a) * raw[t]`` along frames (a = :data:`NOISE_SMOOTH`), from
    ``y[-1] = prev``. A loop over frames: live pushes hold one or two frames, for which it is
    cheaper than a matrix product or ``scipy.signal.lfilter`` (whose import costs memory, see
    :mod:`emotion.peaks`)."""
    out = np.empty_like(raw)
    y = prev
    for t in range(len(raw)):
        y = NOISE_SMOOTH * y + (1.0 - NOISE_SMOOTH) * raw[t]
        out[t] = y
    return out


def _line_noise(raw: FloatArray, prev: PrevSpectra, last: PrevSpectra) -> FloatArray:
    """Per-bin noise power under every frame (see :data:`NOISE_SMOOTH`); causal, carried from
    chunk to chunk in ``prev`` (read) and ``last`` (written)."""
    rise = NOISE_RISE_DB_S / FRAME_RATE
    smooth_prev = prev.get("noise_smooth", raw[0])
    noise_prev = prev.get("noise_db", 10.0 * np.log10(smooth_prev + 1e-20) - rise)
    smoothed = _smoothed(raw, smooth_prev)
    # minimum with a constant rise: noise[t] = min(noise[t-1] + rise, level[t]), in closed form
    steps = rise * np.arange(len(raw))[:, None]
    lowest = np.minimum.accumulate(10.0 * np.log10(smoothed + 1e-20) - steps, axis=0)
    noise_db = steps + np.minimum(noise_prev + rise, lowest)
    last["noise_smooth"], last["noise_db"] = smoothed[-1].copy(), noise_db[-1].copy()
    return np.asarray(10 ** (noise_db / 10.0))


def analyse_frames(
    frames: FloatArray, prev_spectra: PrevSpectra
) -> tuple[dict[str, FloatArray], PrevSpectra]:
    """Measure a matrix of 8 kHz frames; returns the fields and each front end's last spectrum."""
    frames = frames - frames[:, :WIN].mean(axis=1, keepdims=True)
    head = frames[:, :WIN]
    power = np.mean(head**2, axis=1)
    energy_db = np.maximum(10.0 * np.log10(power + 1e-16), FLOOR_DB)
    yin = yin_frames(frames, ANALYSIS_RATE, FMIN, FMAX, WIN)
    hnr_db = np.clip(10.0 * np.log10((yin.harmonicity + 1e-6) / (1.0 - yin.harmonicity + 1e-6)), -10.0, 30.0)

    raw = np.abs(np.fft.rfft(head * _HANN, axis=1)) ** 2
    band_db = np.maximum(10.0 * np.log10(raw[:, _NUC].sum(axis=1) / WIN + 1e-16), FLOOR_DB)
    floor = raw.max(axis=1, keepdims=True) * 10 ** (-SPECTRAL_RANGE_DB / 10) + 1e-20
    last: PrevSpectra = {}
    spectra = {
        False: np.maximum(raw, floor),
        True: np.maximum(raw - NOISE_OVERSUBTRACT * _line_noise(raw, prev_spectra, last), floor),
    }
    fields = {
        "energy_db": energy_db,
        "f0": yin.f0,
        "aperiodicity": yin.aperiodicity,
        "hnr_db": hnr_db,
        "band_db": band_db,
    }
    for prefix, fe in _FRONT_ENDS.items():
        values, spectrum = _spectral(spectra[fe.denoised], fe, prev_spectra.get(prefix))
        fields.update(zip(SPECTRAL_FIELDS[prefix], values, strict=True))
        if spectrum is not None:
            last[prefix] = spectrum
    return fields, last


class FrameAnalyzer:
    """Incremental framing and measurement of one mono stream.

    ``push(samples)`` takes float samples in [-1, 1] at ``sample_rate`` and returns the frames that
    became complete; ``flush()`` pads the tail with silence and returns the rest.
    """

    def __init__(self, sample_rate: int, t0: float = 0.0) -> None:
        import soxr

        if sample_rate < 4000:
            raise ValueError(f"sample rate {sample_rate} Hz is too low for voice analysis")
        self.sample_rate = int(sample_rate)
        self._resampler = (
            None
            if self.sample_rate == ANALYSIS_RATE
            else soxr.ResampleStream(self.sample_rate, ANALYSIS_RATE, 1, dtype="float32", quality="HQ")
        )
        self._buf = np.zeros(0, dtype=np.float64)
        self._next_t = t0  # time of the first sample of the next frame
        self._prev_spec: PrevSpectra = {}

    def push(self, samples: npt.NDArray[np.floating], last: bool = False) -> Frames:
        x = np.asarray(samples, dtype=np.float32).reshape(-1)
        if self._resampler is not None:
            x = self._resampler.resample_chunk(x, last=last)
        buf = np.concatenate([self._buf, x.astype(np.float64)])
        if last:
            buf = np.concatenate([buf, np.zeros(FRAME - HOP)])
        n = 0 if len(buf) < FRAME else (len(buf) - FRAME) // HOP + 1
        t0 = self._next_t
        if n == 0:
            self._buf = buf if not last else np.zeros(0)
            return empty_frames(t0)
        windows = np.lib.stride_tricks.sliding_window_view(buf, FRAME)[: n * HOP : HOP]
        fields, self._prev_spec = analyse_frames(np.array(windows), self._prev_spec)
        self._buf = buf[n * HOP :] if not last else np.zeros(0)
        self._next_t = t0 + n * HOP / ANALYSIS_RATE
        return Frames(t0=t0, **fields)

    def flush(self) -> Frames:
        return self.push(np.zeros(0, dtype=np.float32), last=True)


def frames_of(samples: npt.NDArray[np.floating], sample_rate: int, t0: float = 0.0) -> Frames:
    """All frames of a whole signal (batch use of :class:`FrameAnalyzer`)."""
    analyzer = FrameAnalyzer(sample_rate, t0)
    return Frames.concat([analyzer.push(samples), analyzer.flush()], t0)
