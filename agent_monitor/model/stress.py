"""Debtor stress on the call clock: levels, timed samples and level-change events.

Produced by :class:`emotion.tracker.StressTracker` for one leg (normally the debtor's); times are
float seconds since the start of the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from agent_monitor.model.audio import Leg


class StressLevel(StrEnum):
    """Calibrated stress level of a leg (after smoothing and hysteresis)."""

    NONE = "none"
    ELEVATED = "elevated"
    HIGH = "high"

    @property
    def rank(self) -> int:
        """0 for none, 1 for elevated, 2 for high: compare levels with this."""
        return _RANK[self]


_RANK = {StressLevel.NONE: 0, StressLevel.ELEVATED: 1, StressLevel.HIGH: 2}


class BaselineStatus(StrEnum):
    """How a score was computed."""

    #: no speaker baseline yet: scored against the population (absolute mode)
    ABSOLUTE = "absolute"
    #: scored relative to this speaker's own baseline
    RELATIVE = "relative"


@dataclass(frozen=True, slots=True)
class StressSample:
    """The stress of one leg at call time ``t`` (end of the analysed window).

    ``score`` (0-100) is the smoothed score the level is decided on; ``raw`` is the score of this
    window alone, or ``None`` when the window held too little voiced speech to measure (the
    smoothed score then relaxes toward 0). ``speech_s`` is the voiced speech in the window.
    """

    t: float
    score: float
    level: StressLevel
    baseline: BaselineStatus
    raw: float | None = None
    speech_s: float = 0.0
    leg: Leg = Leg.DEBTOR


@dataclass(frozen=True, slots=True)
class StressEvent:
    """The stress level of a leg changed at call time ``t`` (from ``previous`` to ``level``)."""

    t: float
    level: StressLevel
    previous: StressLevel
    score: float
    baseline: BaselineStatus
    leg: Leg = Leg.DEBTOR

    @property
    def rising(self) -> bool:
        return self.level.rank > self.previous.rank


@dataclass(frozen=True, slots=True)
class StressEpisode:
    """A closed stretch of call time spent above :attr:`StressLevel.NONE`."""

    start: float
    end: float
    peak_level: StressLevel
    peak_score: float
    leg: Leg = Leg.DEBTOR

    @property
    def duration(self) -> float:
        return self.end - self.start
