"""Smoothing and hysteresis: from a jumpy per-window score to a level that does not flap.

* The score is smoothed exponentially (time constant ``smoothing_s``); hops without speech relax
  it toward 0 (time constant ``silence_decay_s``) instead of holding a stale value.
* A level is **entered** when the smoothed score has stayed at or above its onset threshold
  (``elevated_on`` / ``high_on``) for ``onset_s`` seconds.
* A level is **left** only after it has been held ``min_level_s`` seconds and the smoothed score
  is below its offset threshold (``elevated_off`` / ``high_off``), which lies below the onset
  threshold; the gap between the two is the hysteresis.
"""

from __future__ import annotations

import math

from agent_monitor.errors import StressError
from agent_monitor.model.stress import StressLevel
from agent_monitor.settings import StressSettings


def level_for_score(score: float, settings: StressSettings) -> StressLevel:
    """The level a single, unsmoothed score reaches on the onset thresholds (clip scoring)."""
    if score >= settings.high_on:
        return StressLevel.HIGH
    if score >= settings.elevated_on:
        return StressLevel.ELEVATED
    return StressLevel.NONE


def check_thresholds(settings: StressSettings) -> None:
    s = settings
    if not (s.elevated_off <= s.elevated_on <= s.high_on and s.high_off <= s.high_on):
        raise StressError(
            "stress thresholds must satisfy elevated_off <= elevated_on <= high_on and high_off <= high_on"
        )
    if s.high_off < s.elevated_on:
        raise StressError("stress threshold high_off must not be below elevated_on")


class LevelTracker:
    """Smoothed score and hysteresis level of one leg, stepped once per hop."""

    def __init__(self, settings: StressSettings) -> None:
        check_thresholds(settings)
        self.settings = settings
        self.score = 0.0
        self.level = StressLevel.NONE
        self._started = False
        self._level_since = -math.inf
        #: call time since which the smoothed score has been at/above each onset threshold
        self._above_since: dict[StressLevel, float | None] = {
            StressLevel.ELEVATED: None,
            StressLevel.HIGH: None,
        }

    def step(self, t: float, raw: float | None, dt: float) -> StressLevel | None:
        """Advance to call time ``t`` with this hop's raw score (``None``: no speech).

        Returns the previous level when the level changed at ``t``, else ``None``.
        """
        s = self.settings
        dt = max(0.0, dt)
        if raw is not None:
            raw = min(100.0, max(0.0, float(raw)))
            if not self._started or s.smoothing_s <= 0:
                self.score = raw
            else:
                alpha = 1.0 - math.exp(-dt / s.smoothing_s)
                self.score += alpha * (raw - self.score)
            self._started = True
        else:
            self.score *= math.exp(-dt / s.silence_decay_s)

        onset = {StressLevel.ELEVATED: s.elevated_on, StressLevel.HIGH: s.high_on}
        for lvl, threshold in onset.items():
            if self.score >= threshold:
                if self._above_since[lvl] is None:
                    self._above_since[lvl] = t
            else:
                self._above_since[lvl] = None

        previous = self.level
        new = self.level
        # rise: the highest level whose onset condition has held for onset_s
        for lvl in (StressLevel.HIGH, StressLevel.ELEVATED):
            since = self._above_since[lvl]
            if lvl.rank > self.level.rank and since is not None and t - since >= s.onset_s - 1e-9:
                new = lvl
                break
        # fall: only after the minimum duration, and only below the offset threshold
        if (
            new is self.level
            and self.level is not StressLevel.NONE
            and t - self._level_since >= s.min_level_s - 1e-9
        ):
            if self.level is StressLevel.HIGH and self.score < s.high_off:
                new = StressLevel.ELEVATED if self.score >= s.elevated_off else StressLevel.NONE
            elif self.level is StressLevel.ELEVATED and self.score < s.elevated_off:
                new = StressLevel.NONE
        if new is previous:
            return None
        self.level = new
        self._level_since = t
        return previous
