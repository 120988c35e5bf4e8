"""Finding one recording filed under both arousal labels (a labelling error in a corpus).

Two clips of the same speaker with different arousal labels are the *same recording* when their
waveforms, at the 8 kHz analysis rate, match at some time shift: the peak of their normalised
cross-correlation reaches :data:`SAME_RECORDING`. Different takes, even of the same sentence by
the same speaker, stay far below it: on the shared data (8 kHz mu-law) the 4,852 other high/low
pairs of one speaker measure at most 0.35, the 20 CASIA ``liuchanhg`` clips filed under both
``fear`` and ``sad`` at least 0.94 (they differ only in how the silence around them was trimmed).

Such a pair carries no arousal information (the same audio is labelled high and low) and cannot
be told apart by any acoustic model, so training and evaluation leave **both** clips out and say
so; which label was meant is not guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

#: normalised cross-correlation peak at and above which two clips are one recording
SAME_RECORDING = 0.9


@dataclass(frozen=True, slots=True)
class DuplicatePair:
    """Clips ``first`` and ``second`` (row indices) are one recording with conflicting labels."""

    first: int
    second: int
    similarity: float


def similarity(a: npt.NDArray[np.floating], b: npt.NDArray[np.floating]) -> float:
    """Peak of the normalised cross-correlation of two signals over all shifts, in [0, 1].

    Normalised by the energy of both whole signals, so a clip and a copy with a little more
    silence around it measure close to 1; two different takes measure far lower. Silence: 0.
    """
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.size == 0 or y.size == 0:
        return 0.0
    n = _fft_size(max(x.size, y.size))
    return _peak(_Spectrum.of(x, n), _Spectrum.of(y, n))


def conflicting_duplicates(
    speakers: Sequence[str],
    high: Sequence[bool],
    audio: Sequence[npt.NDArray[np.floating]],
    threshold: float = SAME_RECORDING,
) -> list[DuplicatePair]:
    """Pairs of clips of one speaker, one labelled high and one low arousal, that are one recording.

    ``audio`` holds every clip at one common sample rate (the 8 kHz analysis rate). Only pairs
    with conflicting labels are compared, and only when their lengths differ by less than a factor
    of 2 (a re-trimmed copy of one take): a speaker with ``h`` high and ``l`` low clips costs at
    most ``h * l`` inverse FFTs.
    """
    if not (len(speakers) == len(high) == len(audio)):
        raise ValueError("speakers, labels and audio must have one entry per clip")
    out: list[DuplicatePair] = []
    for spk in dict.fromkeys(speakers):
        idx = [i for i, s in enumerate(speakers) if s == spk]
        hi = [i for i in idx if high[i]]
        lo = [i for i in idx if not high[i]]
        if not hi or not lo:
            continue
        n = _fft_size(max(1, *(audio[i].size for i in idx)))
        spec = {i: _Spectrum.of(np.asarray(audio[i], dtype=np.float64), n) for i in idx}
        for i in hi:
            for j in lo:
                if 2 * min(audio[i].size, audio[j].size) < max(audio[i].size, audio[j].size):
                    continue
                sim = _peak(spec[i], spec[j])
                if sim >= threshold:
                    out.append(DuplicatePair(min(i, j), max(i, j), sim))
    return out


def _fft_size(longest: int) -> int:
    """FFT length for a linear (not circular) correlation of signals up to ``longest`` samples."""
    return 1 << int(np.ceil(np.log2(max(2, 2 * longest - 1))))


@dataclass(frozen=True, slots=True)
class _Spectrum:
    """Zero-padded spectrum of one signal and its energy (root of the sum of squares)."""

    spec: npt.NDArray[np.complex128]
    norm: float
    n: int

    @classmethod
    def of(cls, x: npt.NDArray[np.float64], n: int) -> _Spectrum:
        return cls(np.fft.rfft(x, n), float(np.sqrt(np.dot(x, x))), n)


def _peak(a: _Spectrum, b: _Spectrum) -> float:
    if a.norm <= 0.0 or b.norm <= 0.0:
        return 0.0
    corr = np.fft.irfft(a.spec * np.conj(b.spec), a.n)
    return float(min(1.0, np.max(np.abs(corr)) / (a.norm * b.norm)))
