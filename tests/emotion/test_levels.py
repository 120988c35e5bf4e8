"""Smoothing and hysteresis: levels rise on sustained stress, never flap on a jittery score."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from agent_monitor.model.stress import StressLevel
from agent_monitor.settings import StressSettings
from emotion.levels import LevelTracker, level_for_score


def run(raw: Sequence[float | None], settings: StressSettings | None = None) -> tuple[list[StressLevel], int]:
    tracker = LevelTracker(settings or StressSettings())
    levels, changes = [], 0
    for i, r in enumerate(raw):
        changes += tracker.step(float(i + 1), r, 1.0) is not None
        levels.append(tracker.level)
    return levels, changes


def test_jitter_around_a_threshold_does_not_flap() -> None:
    rng = np.random.default_rng(3)
    s = StressSettings()
    raw = list(s.elevated_on + rng.uniform(-12, 12, 300))
    _, changes = run(raw)
    assert changes <= 2  # at most one rise (and one fall) in five minutes of jitter


def test_alternating_scores_never_flap() -> None:
    raw = [30.0, 70.0] * 100
    _, changes = run(raw)
    assert changes <= 1


def test_sustained_stress_rises_then_falls_after_min_duration() -> None:
    s = StressSettings()
    raw = [10.0] * 10 + [95.0] * 10 + [10.0] * 30
    levels, _ = run(raw, s)
    assert levels[9] is StressLevel.NONE
    assert StressLevel.HIGH in levels[10:20]
    first_high = levels.index(StressLevel.HIGH)
    assert first_high >= 10 + s.onset_s  # needed onset_s above the threshold
    assert levels[-1] is StressLevel.NONE
    # held at least min_level_s before falling
    later = levels[first_high:]
    assert later.index(StressLevel.NONE) >= s.min_level_s


def test_a_single_spike_does_not_raise_the_level() -> None:
    levels, changes = run([10.0] * 5 + [100.0] + [10.0] * 10)
    assert changes == 0 and set(levels) == {StressLevel.NONE}


def test_silence_relaxes_the_score() -> None:
    tracker = LevelTracker(StressSettings())
    for i in range(10):
        tracker.step(float(i), 90.0, 1.0)
    high = tracker.score
    for i in range(10, 70):
        tracker.step(float(i), None, 1.0)
    assert tracker.score < high / 5


def test_clip_levels() -> None:
    s = StressSettings()
    assert level_for_score(s.high_on, s) is StressLevel.HIGH
    assert level_for_score(s.elevated_on, s) is StressLevel.ELEVATED
    assert level_for_score(s.elevated_on - 0.1, s) is StressLevel.NONE
