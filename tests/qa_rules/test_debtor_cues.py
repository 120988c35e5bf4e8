"""Cues from what the debtor says: a lawyer represents them (EN/ZH-ATTY-1, FDCPA 805(a)(2)), or this
is not a good time or place (EN/ZH-TIME-2, 805(a)(1), (a)(3), CN-HARASS-1). Each is an ``info``
hit of the debtor leg with wording for the agent, so the agent's panel shows it as a cue."""

from __future__ import annotations

import pytest

from agent_monitor.model.audio import Leg
from agent_monitor.model.rules import HitStatus, Severity, shown_to_agent
from agent_monitor.model.transcript import Transcript
from qa_rules.engine import RuleSet
from qa_rules.streaming import LegChecker

CASES = [
    ("en", "okay you need to talk to my lawyer about this", "EN-ATTY-1", "attorney"),
    ("en", "i can't talk right now i'm driving", "EN-TIME-2", "better time"),
    ("en", "please don't call me at work", "EN-TIME-2", "better time"),
    ("zh", "这个事我已经委托律师处理了", "ZH-ATTY-1", "律师"),
    ("zh", "我在开会，现在不方便", "ZH-TIME-2", "什么时间"),
]


@pytest.mark.parametrize(("lang", "text", "rule", "wording"), CASES)
def test_the_debtor_saying_it_cues_the_agent(
    ruleset: RuleSet, lang: str, text: str, rule: str, wording: str
) -> None:
    checker = LegChecker(ruleset, lang, Leg.DEBTOR)
    events = checker.update(Transcript(Leg.DEBTOR, 0, 5.0, 8.0, text, True, lang=lang))
    # one hit per match ("can't talk" and "driving": two), one cue per utterance and rule
    hits = [e.hit for e in events if e.status is HitStatus.CONFIRMED and e.hit.rule == rule]
    assert hits
    hit = hits[0]
    assert hit.severity is Severity.INFO and hit.leg is Leg.DEBTOR
    assert hit.category in ("represented", "inconvenient")
    assert wording in (hit.compliant or "")
    assert shown_to_agent(hit.leg, hit.severity, hit.compliant)  # a cue card on the agent's panel


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "i don't have a lawyer"),
        ("en", "i'm not at work today so now is fine"),
        ("en", "yes that works for me"),
        ("zh", "方便，你说吧"),
        ("zh", "我现在就可以还"),
    ],
)
def test_what_is_not_such_a_statement_cues_nothing(ruleset: RuleSet, lang: str, text: str) -> None:
    checker = LegChecker(ruleset, lang, Leg.DEBTOR)
    events = checker.update(Transcript(Leg.DEBTOR, 0, 5.0, 8.0, text, True, lang=lang))
    assert [e.hit.rule for e in events if e.hit.category in ("represented", "inconvenient")] == []


def test_the_agent_saying_it_is_no_cue(ruleset: RuleSet) -> None:
    """The rules read the debtor leg: an agent's "talk to my lawyer" is nothing of the kind."""
    checker = LegChecker(ruleset, "en", Leg.AGENT)
    events = checker.update(Transcript(Leg.AGENT, 0, 5.0, 8.0, "is this a bad time to talk", True))
    assert [e.hit.rule for e in events if e.hit.category in ("represented", "inconvenient")] == []
