"""Repetition across turns raises severity: contempt hits on successive agent turns, from the real
rule set, through the live fusion policy (three yellow hits within 120 s make the call orange)."""

from __future__ import annotations

from dataclasses import replace

from agent_monitor.model.audio import Leg
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.rules import HitStatus
from agent_monitor.pipeline.fusion import Fusion
from agent_monitor.settings import FusionSettings
from qa_rules.engine import RuleSet

TURNS = [
    "Stop wasting my time!",
    "Spare me the excuses and pay.",
    "You think we're running a charity here?",
]


def _rank(level: WarningLevel) -> int:
    return list(WarningLevel).index(level)


def test_three_contemptuous_turns_make_the_call_orange(ruleset: RuleSet) -> None:
    fusion = Fusion(FusionSettings())
    levels = []
    for utt, text in enumerate(TURNS):
        hits = ruleset.check(text, "en", Leg.AGENT, utterance=utt)
        # rules that wait for a fact of the call (EN-ATTY-2 on "pay") are left out: none was said
        hits = [h for h in hits if ruleset.rule(h.rule).after is None]
        assert hits and {(h.category, h.severity.value) for h in hits} == {("contempt", "yellow")}
        t = 10.0 + 20 * utt
        decisions = [fusion.on_hit(HitStatus.CONFIRMED, replace(h, start=t - 1, end=t), t) for h in hits]
        levels.append(max((d.level for d in decisions if d is not None), default=None, key=_rank))
    assert levels == [WarningLevel.YELLOW, None, WarningLevel.ORANGE]
    assert fusion.level is WarningLevel.ORANGE


def test_one_contemptuous_turn_stays_yellow(ruleset: RuleSet) -> None:
    fusion = Fusion(FusionSettings())
    (hit,) = ruleset.check(TURNS[0], "en", Leg.AGENT, utterance=0)
    fusion.on_hit(HitStatus.CONFIRMED, replace(hit, start=1.0, end=2.0), 2.0)
    assert fusion.level is WarningLevel.YELLOW
