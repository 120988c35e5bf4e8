"""Real noise for the simulated telephone lines: line hiss and babble, mixed at a stated SNR.

Noise is real, never synthetic: ``line`` is the hiss between the turns of the SpokenWOZ telephone
call in the evaluation data, ``babble`` a mix of other speakers' speech (see :class:`NoiseBank`).
:func:`mix_at_snr` puts it under speech at a signal-to-noise ratio measured on the speech's active
level (:func:`active_power`), as :mod:`agent_monitor.audio.conditions` does for its noise lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from agent_monitor.audio.decode import resample_mono
from agent_monitor.errors import ConfigError

Samples = npt.NDArray[np.float32]

NOISES = ("line", "babble")


def active_power(x: Samples, rate: int, frame_s: float = 0.02, range_db: float = 35.0) -> float:
    """Mean power of the frames within ``range_db`` of the loudest: the speech level, not the pauses."""
    n = max(1, int(rate * frame_s))
    frames = len(x) // n
    if frames == 0:
        return float(np.mean(np.square(x, dtype=np.float64))) if len(x) else 0.0
    p = np.mean(np.square(x[: frames * n].reshape(frames, n), dtype=np.float64), axis=1)
    top = float(p.max())
    if top <= 0:
        return 0.0
    return float(p[p >= top * 10 ** (-range_db / 10)].mean())


def mix_at_snr(speech: Samples, noise: Samples, snr_db: float, rate: int = 16000) -> Samples:
    """``speech`` plus ``noise`` scaled so the speech's active level is ``snr_db`` above the noise."""
    p_noise = float(np.mean(np.square(noise, dtype=np.float64)))
    p_speech = active_power(speech, rate)
    if p_noise <= 0 or p_speech <= 0:
        return speech
    scale = np.sqrt(p_speech / (p_noise * 10 ** (snr_db / 10)))
    return (speech + noise[: len(speech)] * np.float32(scale)).astype(np.float32)


@dataclass
class NoiseBank:
    """Real noise to mix in: telephone line hiss and multi-talker babble, each at 16 kHz.

    Built from the evaluation data (:meth:`from_data_dir`): ``line`` from the quietest 20 ms frames
    of both legs of the SpokenWOZ call (the hiss between turns); ``babble`` from ``babble_files``,
    several other speakers' recordings summed at equal level. Clips are cut from random offsets.
    """

    line: Samples
    babble: Samples
    rate: int = 16000
    sources: list[str] = field(default_factory=list)

    @classmethod
    def from_data_dir(cls, data_dir: Path, babble_files: Sequence[Path] | None = None) -> NoiseBank:
        call = data_dir / "calls" / "spokenwoz" / "MUL1011.opus"
        if not call.is_file():
            raise ConfigError(f"noise conditions need {call} (the evaluation data's telephone call)")
        files = list(babble_files) if babble_files is not None else default_babble_files(data_dir)
        if len(files) < 3:
            raise ConfigError(f"babble needs recordings of at least 3 other speakers under {data_dir}")
        return cls(
            line=line_noise(call, 16000),
            babble=babble_mix(files, 16000),
            sources=[str(call), *map(str, files)],
        )

    def sample(self, kind: str, n: int, rate: int, rng: np.random.Generator) -> Samples:
        """``n`` samples of ``kind`` noise at ``rate``, from a random offset (looped if short)."""
        src = {"line": self.line, "babble": self.babble}.get(kind)
        if src is None:
            raise ConfigError(f"unknown noise {kind!r}; known: {', '.join(NOISES)}")
        src = resample_mono(src, self.rate, rate)
        reps = -(-(n + len(src)) // len(src))
        looped = np.tile(src, reps)
        start = int(rng.integers(0, len(src)))
        return looped[start : start + n].astype(np.float32)


def default_babble_files(data_dir: Path) -> list[Path]:
    """Speech from speakers the ASR/stress evaluations do not score against each other.

    LibriVox read speech (one reader) and the MFA spontaneous monologues (another speaker): their
    longest files, so the babble is continuous. Callers evaluating those folders should pass
    their own list so a clip is never mixed with its own speaker.
    """
    out: list[Path] = []
    for folder, count in (("speech/en/librivox", 3), ("speech/en/mfa_spontaneous", 3)):
        d = data_dir / folder
        if d.is_dir():
            files = sorted(
                (p for p in d.iterdir() if p.suffix in (".wav", ".flac")), key=lambda p: -p.stat().st_size
            )
            out.extend(files[:count])
    return out


def _load_mono(path: Path, rate: int) -> Samples:
    import soundfile as sf

    x, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return resample_mono(np.ascontiguousarray(x.mean(axis=1), dtype=np.float32), int(sr), rate)


def line_noise(call: Path, rate: int, frame_s: float = 0.02) -> Samples:
    """The hiss between turns: the quietest fifth of 20 ms frames of each leg, joined."""
    import soundfile as sf

    x, sr = sf.read(str(call), dtype="float32", always_2d=True)
    n = int(sr * frame_s)
    pieces: list[Samples] = []
    for ch in range(x.shape[1]):
        leg = x[:, ch]
        frames = leg[: len(leg) // n * n].reshape(-1, n)
        energy = np.mean(np.square(frames, dtype=np.float64), axis=1)
        quiet = energy <= np.quantile(energy, 0.2)
        pieces.append(frames[quiet].reshape(-1))
    return resample_mono(np.concatenate(pieces).astype(np.float32), int(sr), rate)


def babble_mix(files: Sequence[Path], rate: int, seconds: float = 30.0) -> Samples:
    """Several speakers at equal active level, summed: a room full of other conversations."""
    n = int(rate * seconds)
    out = np.zeros(n, dtype=np.float32)
    for path in files:
        x = _load_mono(path, rate)
        if len(x) == 0:
            continue
        x = np.tile(x, -(-n // len(x)))[:n]
        p = active_power(x, rate)
        if p > 0:
            out += x / np.float32(np.sqrt(p))
    return out
