"""Waveform peaks: the minimum and maximum of each of ``buckets`` equal slices of 16-bit PCM,
scaled to [-1, 1], for drawing a waveform without sending the audio."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_BUCKETS = 4000


@dataclass(frozen=True)
class Peaks:
    #: seconds of audio the peaks cover
    duration: float
    #: seconds per bucket
    step: float
    mins: tuple[float, ...]
    maxs: tuple[float, ...]

    def as_dict(self) -> dict[str, object]:
        return {"duration": self.duration, "step": self.step, "min": list(self.mins), "max": list(self.maxs)}


def pcm_peaks(pcm: bytes, sample_rate: int, buckets: int) -> Peaks:
    """Peaks of little-endian 16-bit mono ``pcm`` in ``buckets`` slices (fewer for short audio)."""
    samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2")
    duration = len(samples) / sample_rate if sample_rate else 0.0
    n = max(1, min(buckets, MAX_BUCKETS, len(samples)))
    if not len(samples):
        return Peaks(0.0, 0.0, (), ())
    edges = np.linspace(0, len(samples), n + 1).astype(np.int64)
    mins = np.minimum.reduceat(samples, edges[:-1]).astype(np.float32) / 32768.0
    maxs = np.maximum.reduceat(samples, edges[:-1]).astype(np.float32) / 32768.0
    return Peaks(
        duration,
        duration / n,
        tuple(round(float(v), 4) for v in mins),
        tuple(round(float(v), 4) for v in maxs),
    )
