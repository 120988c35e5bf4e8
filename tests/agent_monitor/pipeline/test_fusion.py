"""The fusion policy: rule severities, stress, combinations and repetition -> level with reasons."""

from __future__ import annotations

from agent_monitor.model.audio import Leg
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.rules import HitStatus, RuleHit, Severity
from agent_monitor.model.stress import BaselineStatus, StressLevel, StressSample
from agent_monitor.pipeline.fusion import Fusion
from agent_monitor.settings import FusionSettings


def hit(rule: str, severity: Severity, utt: int, t: float, *, said: bool = True) -> RuleHit:
    return RuleHit(
        rule=rule,
        title=rule,
        category="insult",
        severity=severity,
        leg=Leg.AGENT,
        span=(0, 5) if said else None,
        evidence="words" if said else "",
        reason="r",
        citation="c",
        utterance=utt if said else None,
        start=t - 0.5,
        end=t,
    )


def stress(t: float, level: StressLevel, score: float) -> StressSample:
    return StressSample(t=t, score=score, level=level, baseline=BaselineStatus.RELATIVE)


def test_severity_maps_to_level_and_level_never_falls() -> None:
    f = Fusion(FusionSettings())
    d = f.on_hit(HitStatus.CONFIRMED, hit("A", Severity.YELLOW, 0, 5.0), 5.0)
    assert d is not None and d.level is WarningLevel.YELLOW and d.reasons[0].kind == "rule"
    assert f.on_hit(HitStatus.CONFIRMED, hit("I", Severity.INFO, 1, 6.0), 6.0) is None
    d = f.on_hit(HitStatus.PROVISIONAL, hit("R", Severity.RED, 2, 7.0), 7.0)
    assert d is not None and (d.previous, d.level) == (WarningLevel.YELLOW, WarningLevel.RED)
    assert f.on_hit(HitStatus.WITHDRAWN, hit("R", Severity.RED, 2, 7.0), 7.0) is None
    assert f.level is WarningLevel.RED


def test_a_hit_counts_once_provisional_then_confirmed() -> None:
    f = Fusion(FusionSettings(repeat_count=2))
    assert f.on_hit(HitStatus.PROVISIONAL, hit("A", Severity.YELLOW, 0, 1.0), 1.0) is not None
    assert f.on_hit(HitStatus.CONFIRMED, hit("A", Severity.YELLOW, 0, 1.2), 1.2) is None
    d = f.on_hit(HitStatus.CONFIRMED, hit("B", Severity.YELLOW, 1, 4.0), 4.0)
    assert d is not None and d.level is WarningLevel.ORANGE and d.reasons[0].kind == "repeat"


def test_a_withdrawn_hit_no_longer_counts_as_a_repeat() -> None:
    """A provisional hit the final took back (a misheard partial) raised the level it raised, but
    it is not one of the repeated hits that raise the level further."""
    f = Fusion(FusionSettings(repeat_count=2))
    assert f.on_hit(HitStatus.PROVISIONAL, hit("A", Severity.YELLOW, 0, 1.0), 1.0) is not None
    assert f.on_hit(HitStatus.WITHDRAWN, hit("A", Severity.YELLOW, 0, 1.0), 1.0) is None
    assert f.on_hit(HitStatus.CONFIRMED, hit("B", Severity.YELLOW, 1, 4.0), 4.0) is None  # yellow already
    assert f.level is WarningLevel.YELLOW
    d = f.on_hit(HitStatus.CONFIRMED, hit("C", Severity.YELLOW, 2, 6.0), 6.0)
    assert d is not None and d.level is WarningLevel.ORANGE and d.reasons[0].kind == "repeat"


def test_provisional_hits_wait_for_the_final_when_configured() -> None:
    f = Fusion(FusionSettings(act_on_provisional=False))
    assert f.on_hit(HitStatus.PROVISIONAL, hit("R", Severity.RED, 0, 1.0), 1.0) is None
    assert f.on_hit(HitStatus.CONFIRMED, hit("R", Severity.RED, 0, 1.0), 1.0) is not None


def test_stress_alone_and_orange_rule_with_high_stress_is_red() -> None:
    f = Fusion(FusionSettings())
    assert f.on_stress(stress(10.0, StressLevel.NONE, 20)) is None
    d = f.on_stress(stress(11.0, StressLevel.ELEVATED, 55))
    assert d is not None and d.level is WarningLevel.YELLOW and d.reasons[0].kind == "stress"
    d = f.on_stress(stress(12.0, StressLevel.HIGH, 80))
    assert d is not None and d.level is WarningLevel.ORANGE
    d = f.on_hit(HitStatus.CONFIRMED, hit("O", Severity.ORANGE, 0, 20.0), 20.0)
    assert d is not None and d.level is WarningLevel.RED
    assert d.reasons[0].kind == "combo" and d.reasons[0].stress_score == 80


def test_high_stress_after_a_hit_bumps_it_within_the_window() -> None:
    f = Fusion(FusionSettings(combo_window_s=30.0))
    f.on_hit(HitStatus.CONFIRMED, hit("O", Severity.ORANGE, 0, 5.0), 5.0)
    assert f.on_stress(stress(50.0, StressLevel.HIGH, 90)) is None  # 45 s later: no combo
    f2 = Fusion(FusionSettings(combo_window_s=30.0))
    f2.on_hit(HitStatus.CONFIRMED, hit("O", Severity.ORANGE, 0, 5.0), 5.0)
    d = f2.on_stress(stress(20.0, StressLevel.HIGH, 90))
    assert d is not None and d.level is WarningLevel.RED and d.reasons[0].kind == "combo"


def test_missed_disclosures_do_not_count_as_repeated_abuse() -> None:
    f = Fusion(FusionSettings(repeat_count=3))
    levels = [
        f.on_hit(HitStatus.CONFIRMED, hit(r, s, 0, 30.0, said=False), 30.0)
        for r, s in (("ID", Severity.ORANGE), ("MM", Severity.ORANGE), ("REC", Severity.YELLOW))
    ]
    assert levels[0] is not None and levels[0].level is WarningLevel.ORANGE
    assert levels[1] is None and levels[2] is None
    assert f.level is WarningLevel.ORANGE
