"""Audio on the call clock: legs, PCM frames and VAD speech segments."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

BYTES_PER_SAMPLE = 2  # 16-bit signed little-endian PCM, mono


class Leg(StrEnum):
    """One side of a call."""

    AGENT = "agent"
    DEBTOR = "debtor"


@dataclass(frozen=True, slots=True)
class AudioFrame:
    """A run of mono 16-bit PCM audio of one leg starting at ``start`` seconds on the call clock."""

    leg: Leg
    start: float
    pcm: bytes
    sample_rate: int

    @property
    def n_samples(self) -> int:
        return len(self.pcm) // BYTES_PER_SAMPLE

    @property
    def duration(self) -> float:
        return self.n_samples / self.sample_rate

    @property
    def end(self) -> float:
        return self.start + self.duration


@dataclass(frozen=True, slots=True)
class SpeechSegment:
    """A stretch of speech found by the VAD (pre-roll included), times in call seconds."""

    leg: Leg
    start: float
    end: float
    pcm: bytes
    sample_rate: int

    @property
    def duration(self) -> float:
        return self.end - self.start
