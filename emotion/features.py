"""Window (or whole-clip) acoustic features from :class:`emotion.frames.Frames`.

A window is any run of frames: a whole clip, or the last few seconds of a live leg. Frames are
classified relative to the window's own speech level (``ref_db``), never against an absolute
level, so a telephone gain change shifts nothing but ``loud_db``. ``loud_db`` is the only
gain-dependent feature and is used **only** as a difference from the speaker's baseline (see
:mod:`emotion.model`).

Features (all finite for any input that has speech; :func:`window_features` returns ``None``
when the window has too little voiced speech to measure):

=============== ===========================================================================
``f0_st``       median F0 of voiced frames, semitones re 100 Hz (F0 level)
``f0_range_st`` 90th minus 10th percentile of F0, semitones (F0 range)
``f0_slope``    least-squares slope of F0 over the voiced frames, semitones per second
``jitter``      mean absolute F0 change between consecutive voiced frames, semitones (a
                frame-level approximation of period jitter)
``shimmer_db``  mean absolute level change between consecutive voiced frames, dB (frame-level
                approximation of amplitude shimmer)
``hnr_db``      median harmonics-to-noise ratio of voiced frames, dB
``loud_db``     90th percentile of the speech-frame level, dB re full scale: the level of the
                loud (vowel) parts, i.e. vocal effort (gain dependent)
``loud_range``  90th minus 10th percentile of speech-frame level, dB (gain invariant)
``centroid``    median spectral centroid of loud speech frames (see below), kHz
``alpha_db``    median alpha ratio (0-1 kHz over 1-3.8 kHz energy) of loud speech frames, dB (tilt)
``flux``        mean spectral flux of loud speech frames
``spec_change`` median, over consecutive loud speech frames, of the RMS change of the mel spectral shape
                (``shape_db``) from one 10 ms frame to the next, dB: how fast the articulation moves
                (formant transitions); gain invariant. Adding it raised the leave-speaker-out AUC on
                CASIA from 0.847 to 0.858 with a baseline, 0.769 to 0.806 without
``rate``        syllable nuclei per second of speech (with ``words=``: ASR words per second)
``pause_ratio`` share of non-speech frames between the first and last speech frame
``voiced_ratio`` share of speech frames that are voiced
``mel_NN``      median over loud speech frames of the log energy of mel band NN (16 bands, 100-3800
                Hz) minus the frame's mean over the bands, dB (spectral shape; gain invariant)
``tel_*``       ``centroid``, ``alpha_db`` (0.3-1 over 1-3.4 kHz), ``flux``, ``spec_change`` and
                ``mel_NN`` again, measured over the telephone band (300-3400 Hz) only
                (:data:`emotion.frames.TEL_BAND`): the baseline scorer's spectral features
=============== ===========================================================================

*Loud speech frames*: the spectral features use only speech frames within
:data:`SPECTRAL_FRAMES_DB` (20 dB) of the window's speech level, and every frame's spectrum is
floored 30 dB below its strongest bin (:data:`emotion.frames.SPECTRAL_RANGE_DB`). On a quiet G.711
line the codec's quantisation noise is fixed in level, so quiet frames whiten; the louder frames
read the same clean, 20 dB down and through mu-law/A-law. Nothing depends on the absolute level
but ``loud_db`` (digital silence aside): a clip 40 dB down gives the same features.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from agent_monitor.model.transcript import Word
from emotion.frames import FRAME_RATE, N_SHAPE, SPECTRAL_FIELDS, Frames
from emotion.peaks import find_peaks
from emotion.pitch import FloatArray


def _spectral_names(prefix: str) -> tuple[str, ...]:
    names = ("centroid", "alpha_db", "flux", "spec_change", *(f"mel_{i:02d}" for i in range(N_SHAPE)))
    return tuple(prefix + n for n in names)


#: the spectral features of each front end (:data:`emotion.frames.SPECTRAL_FIELDS`)
WIDE_SPECTRAL = _spectral_names("")
TEL_SPECTRAL = _spectral_names("tel_")
FEATURE_NAMES: tuple[str, ...] = (
    "f0_st",
    "f0_range_st",
    "f0_slope",
    "jitter",
    "shimmer_db",
    "hnr_db",
    "loud_db",
    "loud_range",
    "centroid",
    "alpha_db",
    "flux",
    "spec_change",
    "rate",
    "pause_ratio",
    "voiced_ratio",
    *(f"mel_{i:02d}" for i in range(N_SHAPE)),
    *TEL_SPECTRAL,
)
N_FEATURES = len(FEATURE_NAMES)

#: frames more than this far below the window's speech level are not speech
SPEECH_RANGE_DB = 35.0
#: nothing below this level is speech, whatever the gain (digital silence)
ABS_FLOOR_DB = -130.0
#: speech frames must also stand this far above the window's noise floor (its 10th percentile
#: frame level): a codec's idle-channel noise and quantised room noise in the pauses then do not
#: count as speech on a quiet line. The gate never rises above ``ref - NOISE_GATE_MAX_DB`` (a
#: window without pauses has no noise floor to measure)
NOISE_MARGIN_DB = 10.0
NOISE_GATE_MAX_DB = 25.0
#: YIN aperiodicity above this is unvoiced
VOICING_THRESHOLD = 0.4
#: looser threshold used when a short or rough-voiced window has too few voiced frames; white noise
#: measures 0.75 or more, so noise still does not pass
RELAXED_VOICING_THRESHOLD = 0.55
#: spectral features (centroid, alpha, flux, spec_change, mel_NN) use only speech frames within
#: this many dB of the window's speech level
SPECTRAL_FRAMES_DB = 20.0
#: a window needs this many voiced frames (10 ms each) to be scored
MIN_VOICED_FRAMES = 20


@dataclass(frozen=True, slots=True)
class WindowFeatures:
    """Features of one window: ``values`` in :data:`FEATURE_NAMES` order, plus how much speech."""

    values: FloatArray
    speech_s: float
    voiced_s: float
    #: the window's speech reference level (dBFS): 95th percentile of frame level
    ref_db: float
    #: True when ``rate`` came from ASR word times instead of syllable nuclei
    rate_from_words: bool = False

    def as_dict(self) -> dict[str, float]:
        return {name: float(v) for name, v in zip(FEATURE_NAMES, self.values, strict=True)}


def speech_masks(frames: Frames, ref_db: float | None = None) -> tuple[np.ndarray, np.ndarray, float]:
    """Speech and voiced frame masks relative to the speech level; returns (speech, voiced, ref)."""
    energy = frames.energy_db
    if len(energy) == 0:
        return np.zeros(0, bool), np.zeros(0, bool), ABS_FLOOR_DB
    ref = float(np.percentile(energy, 95)) if ref_db is None else float(ref_db)
    gate = min(float(np.percentile(energy, 10)) + NOISE_MARGIN_DB, ref - NOISE_GATE_MAX_DB)
    speech = energy > max(ref - SPEECH_RANGE_DB, gate, ABS_FLOOR_DB)
    loud = speech & (energy > ref - SPEECH_RANGE_DB + 10.0)
    voiced = loud & (frames.aperiodicity < VOICING_THRESHOLD)
    if np.count_nonzero(voiced) < MIN_VOICED_FRAMES:
        voiced = loud & (frames.aperiodicity < RELAXED_VOICING_THRESHOLD)
    return speech, voiced, ref


def _pairs(mask: np.ndarray) -> np.ndarray:
    """Indices i where frames i and i+1 are both in ``mask``."""
    return np.flatnonzero(mask[:-1] & mask[1:]) if len(mask) > 1 else np.zeros(0, int)


def syllable_nuclei(frames: Frames, speech: np.ndarray, voiced: np.ndarray) -> int:
    """Count syllable nuclei: voiced peaks of the 300-2500 Hz level with a 2 dB dip between them."""
    if len(frames) < 3:
        return 0
    env = np.convolve(frames.band_db, np.ones(5) / 5, mode="same")
    env = np.where(speech, env, env.min() if len(env) else 0.0)
    peaks = find_peaks(env, prominence=2.0, distance=int(0.08 * FRAME_RATE))
    return int(np.count_nonzero(voiced[peaks]))


def _spectral_frames(frames: Frames, speech: np.ndarray, ref: float) -> np.ndarray:
    """Speech frames within :data:`SPECTRAL_FRAMES_DB` of the speech level (all speech if too few).

    A codec's quantisation noise is fixed in level on a quiet line, so the quiet speech frames have
    the worst signal-to-noise ratio and their spectra whiten; the louder ones read the same on
    every line.
    """
    loud = speech & (frames.energy_db > ref - SPECTRAL_FRAMES_DB)
    return loud if np.count_nonzero(loud) >= MIN_VOICED_FRAMES else speech


def _percentile_range(x: FloatArray) -> float:
    lo, hi = np.percentile(x, [10, 90])
    return float(hi - lo)


def window_features(
    frames: Frames,
    ref_db: float | None = None,
    words: Sequence[Word] | None = None,
) -> WindowFeatures | None:
    """Features of a window of frames, or ``None`` when it holds too little voiced speech.

    ``words``, when given, are ASR words (call-clock times) overlapping the window: the speaking
    rate is then words per second of speech instead of syllable nuclei.
    """
    speech, voiced, ref = speech_masks(frames, ref_db)
    n_voiced = int(np.count_nonzero(voiced))
    if n_voiced < MIN_VOICED_FRAMES:
        return None
    n_speech = int(np.count_nonzero(speech))
    speech_s = n_speech / FRAME_RATE
    med, f0_range, slope = _pitch_contour(frames, voiced)
    jitter, shimmer = _perturbation(frames, voiced)
    spectral = _spectral_frames(frames, speech, ref)
    level = frames.energy_db[speech]
    idx = np.flatnonzero(speech)
    span = idx[-1] - idx[0] + 1
    pause_ratio = 1.0 - n_speech / span
    rate, from_words = _speaking_rate(frames, speech, voiced, speech_s, words)
    wide = _spectral_values(frames, spectral, "")

    values = np.array(
        [
            med,
            f0_range,
            float(np.clip(slope, -60.0, 60.0)),
            jitter,
            shimmer,
            float(np.median(frames.hnr_db[voiced])),
            float(np.percentile(level, 90)),
            _percentile_range(level),
            *wide[:4],
            float(rate),
            float(pause_ratio),
            n_voiced / n_speech,
            *wide[4:],
            *_spectral_values(frames, spectral, "tel_"),
        ]
    )
    if not np.all(np.isfinite(values)):  # defensive: every branch above is finite by construction
        raise ValueError(f"non-finite window features: {dict(zip(FEATURE_NAMES, values, strict=True))}")
    return WindowFeatures(values, speech_s, n_voiced / FRAME_RATE, ref, from_words)


def _pitch_contour(frames: Frames, voiced: np.ndarray) -> tuple[float, float, float]:
    """Median F0 (semitones re 100 Hz), its 10-90% range and slope (semitones per second)."""
    st = 12.0 * np.log2(np.maximum(frames.f0[voiced], 1.0) / 100.0)
    # remove octave jumps and outliers around the median before range and slope
    med = float(np.median(st))
    keep = np.abs(st - med) < 12.0
    st_k = st[keep] if np.count_nonzero(keep) >= 3 else st
    times = frames.times[voiced][keep] if np.count_nonzero(keep) >= 3 else frames.times[voiced]
    f0_range = _percentile_range(st_k)
    if len(st_k) >= 3 and float(np.ptp(times)) > 0:
        slope = float(np.polyfit(times - times.mean(), st_k, 1)[0])
    else:
        slope = 0.0
    return med, f0_range, slope


def _perturbation(frames: Frames, voiced: np.ndarray) -> tuple[float, float]:
    """Jitter (mean F0 step, semitones) and shimmer (mean level step, dB) between voiced frames."""
    st_all = 12.0 * np.log2(np.maximum(frames.f0, 1.0) / 100.0)
    vp = _pairs(voiced)
    d_st = np.abs(np.diff(st_all))[vp] if len(vp) else np.zeros(0)
    d_st = d_st[d_st < 2.0]
    jitter = float(d_st.mean()) if len(d_st) else 0.0
    d_db = np.abs(np.diff(frames.energy_db))[vp] if len(vp) else np.zeros(0)
    d_db = d_db[d_db < 6.0]
    shimmer = float(d_db.mean()) if len(d_db) else 0.0
    return jitter, shimmer


def _spectral_values(frames: Frames, spectral: np.ndarray, prefix: str) -> list[float]:
    """One front end's centroid (kHz), alpha ratio, flux, spectral change and mel shape."""
    centroid, alpha, flux, shape = (getattr(frames, f) for f in SPECTRAL_FIELDS[prefix])
    return [
        float(np.median(centroid[spectral])) / 1000.0,
        float(np.median(alpha[spectral])),
        float(np.mean(flux[spectral])),
        _spectral_change(shape, spectral),
        *np.median(shape[spectral], axis=0),
    ]


def _spectral_change(shape_db: FloatArray, spectral: np.ndarray) -> float:
    """Median RMS step of the spectral shape between consecutive spectral frames (dB)."""
    sp_pairs = _pairs(spectral)
    if not len(sp_pairs):
        return 0.0
    step = np.diff(shape_db, axis=0)[sp_pairs]
    return float(np.median(np.sqrt(np.mean(step**2, axis=1))))


def _speaking_rate(
    frames: Frames, speech: np.ndarray, voiced: np.ndarray, speech_s: float, words: Sequence[Word] | None
) -> tuple[float, bool]:
    """Words (when ASR words are given) or syllable nuclei per second of speech, and which."""
    if words:
        t_lo = frames.t0
        t_hi = frames.t0 + len(frames) / FRAME_RATE
        inside = [w for w in words if w.end > t_lo and w.start < t_hi and w.text.strip()]
        return len(inside) / max(speech_s, 0.1), True
    return syllable_nuclei(frames, speech, voiced) / max(speech_s, 0.1), False
