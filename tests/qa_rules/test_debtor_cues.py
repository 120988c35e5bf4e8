"""Cues from what the debtor says: a lawyer represents them (EN/ZH-ATTY-1, FDCPA 805(a)(2)), or this
is not a good time or place (EN/ZH-TIME-2, 805(a)(1), (a)(3), CN-HARASS-1), or they dispute the
debt (EN/ZH-DISPUTE-1, 807(8), 809(b), US-DISC-4). Each is an ``info``
hit of the debtor leg with wording for the agent, so the agent's panel shows it as a cue; after the
English lawyer cue, the agent pressing the person for payment is an orange EN-ATTY-2, and after
"this is not a good time" a yellow EN/ZH-TIME-3."""

from __future__ import annotations

import pytest

from agent_monitor.model.audio import Leg
from agent_monitor.model.rules import HitEvent, HitStatus, Severity, shown_to_agent
from agent_monitor.model.transcript import Transcript
from qa_rules.engine import RuleSet
from qa_rules.streaming import LegChecker
from tests.qa_rules.facts_support import pair, said

#: the categories of the debtor's cues
CUES = ("represented", "inconvenient", "disputed")
CASES = [
    ("en", "okay you need to talk to my lawyer about this", "EN-ATTY-1", "attorney"),
    ("en", "i can't talk right now i'm driving", "EN-TIME-2", "better time"),
    ("en", "please don't call me at work", "EN-TIME-2", "better time"),
    ("en", "i don't owe you anything that's not my account", "EN-DISPUTE-1", "dispute"),
    ("en", "i already paid that off last year", "EN-DISPUTE-1", "in writing"),
    ("zh", "这个事我已经委托律师处理了", "ZH-ATTY-1", "律师"),
    ("zh", "我在开会，现在不方便", "ZH-TIME-2", "什么时间"),
    ("zh", "我不欠你们钱，这不是我的卡", "ZH-DISPUTE-1", "异议"),
    ("zh", "那笔钱我早就已经还清了", "ZH-DISPUTE-1", "不要争辩"),
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
    assert hit.category in CUES
    assert wording in (hit.compliant or "")
    assert shown_to_agent(hit.leg, hit.severity, hit.compliant)  # a cue card on the agent's panel


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "i don't have a lawyer"),
        ("en", "i'm not at work today so now is fine"),
        ("en", "yes that works for me"),
        ("en", "how much do i owe"),
        ("en", "i'm not sure what i owe"),
        ("zh", "方便，你说吧"),
        ("zh", "我现在就可以还"),
        ("zh", "我还欠多少钱"),
        ("zh", "我下个月把欠款还清"),
    ],
)
def test_what_is_not_such_a_statement_cues_nothing(ruleset: RuleSet, lang: str, text: str) -> None:
    checker = LegChecker(ruleset, lang, Leg.DEBTOR)
    events = checker.update(Transcript(Leg.DEBTOR, 0, 5.0, 8.0, text, True, lang=lang))
    assert [e.hit.rule for e in events if e.hit.category in CUES] == []


def test_the_agent_saying_it_is_no_cue(ruleset: RuleSet) -> None:
    """The rules read the debtor leg: an agent's "talk to my lawyer" is nothing of the kind."""
    checker = LegChecker(ruleset, "en", Leg.AGENT)
    events = checker.update(Transcript(Leg.AGENT, 0, 5.0, 8.0, "is this a bad time to talk", True))
    assert [e.hit.rule for e in events if e.hit.category in CUES] == []


def _represented(events: list[HitEvent]) -> list[tuple[str, str]]:
    return [(e.status.value, e.hit.rule) for e in events if e.hit.category == "represented"]


def test_collecting_after_the_debtor_named_a_lawyer_is_an_orange_hit(ruleset: RuleSet) -> None:
    """EN-ATTY-1 records the fact ``represented``; EN-ATTY-2 (agent leg) is pressing the person
    for payment or talking the debt over with them after it, unless the agent speaks of the lawyer."""
    agent, debtor = pair(ruleset)
    # before the person says so, asking for a payment is ordinary collecting
    assert _represented(agent.update(said(Leg.AGENT, 0, 0.0, "can you make a payment today"))) == []
    answer = debtor.update(said(Leg.DEBTOR, 0, 4.0, "i have an attorney handling this talk to my lawyer"))
    assert ("confirmed", "EN-ATTY-1") in _represented(answer)
    assert agent.facts.since("represented") is not None
    # the compliant answer: ask for the lawyer's details, deal with the lawyer
    for utt, text in enumerate(
        ("may i have your attorney's name and phone number", "we will discuss the balance with your lawyer"),
        start=1,
    ):
        assert _represented(agent.update(said(Leg.AGENT, utt, 10.0 + 5 * utt, text))) == []
    pressing = "i understand but you still owe the balance so can you pay"
    pressed = agent.update(said(Leg.AGENT, 3, 30.0, pressing))
    assert _represented(pressed) == [("confirmed", "EN-ATTY-2")] * 3  # owe, balance, pay
    hit = pressed[0].hit
    assert hit.severity is Severity.ORANGE and hit.leg is Leg.AGENT
    assert "attorney's name" in (hit.compliant or "") and "805(a)(2)" in hit.citation


def test_a_payment_request_in_another_call_or_after_i_have_no_lawyer_is_no_hit(ruleset: RuleSet) -> None:
    agent, debtor = pair(ruleset)
    assert _represented(debtor.update(said(Leg.DEBTOR, 0, 1.0, "no i don't have a lawyer"))) == []
    assert _represented(agent.update(said(Leg.AGENT, 0, 5.0, "then can you make a payment today"))) == []
    # a debtor's "I have an attorney" in one call is no fact of another
    _, other_debtor = pair(ruleset)
    other_debtor.update(said(Leg.DEBTOR, 0, 1.0, "talk to my lawyer"))
    assert _represented(agent.update(said(Leg.AGENT, 1, 9.0, "you owe a balance"))) == []


BAD_TIME = [
    (
        "en",
        ("i am calling about your balance", "i can't talk right now i'm driving"),
        (
            "when would be a better time to call you about the balance",
            "this will only take a minute can you make a payment",
        ),
        "better time",
    ),
    (
        "zh",
        ("您好，我是来谈您的欠款的", "我在开车，现在不方便"),
        ("您看什么时间联系您比较方便，再谈还款的事", "就耽误您一分钟，您今天能还款吗"),
        "什么时间",
    ),
]


@pytest.mark.parametrize(("lang", "opening", "after", "wording"), BAD_TIME)
def test_collecting_after_the_debtor_said_it_is_a_bad_time_is_a_yellow_hit(
    ruleset: RuleSet, lang: str, opening: tuple[str, str], after: tuple[str, str], wording: str
) -> None:
    """EN/ZH-TIME-2 record the fact ``inconvenient``; EN/ZH-TIME-3 (agent leg) is going on about
    payment or the debt after it, unless the agent asks when to call back."""
    agent, debtor = pair(ruleset, lang)
    prefix = lang.upper()

    def inconvenient(events: list[HitEvent]) -> list[tuple[str, str]]:
        return [(e.status.value, e.hit.rule) for e in events if e.hit.category == "inconvenient"]

    assert inconvenient(agent.update(said(Leg.AGENT, 0, 0.0, opening[0], lang=lang))) == []
    answer = debtor.update(said(Leg.DEBTOR, 0, 3.0, opening[1], lang=lang))
    assert ("confirmed", f"{prefix}-TIME-2") in inconvenient(answer)
    asked = agent.update(said(Leg.AGENT, 1, 9.0, after[0], lang=lang))
    assert inconvenient(asked) == []
    pressed = agent.update(said(Leg.AGENT, 2, 15.0, after[1], lang=lang))
    assert inconvenient(pressed) == [("confirmed", f"{prefix}-TIME-3")]
    hit = next(e.hit for e in pressed if e.hit.category == "inconvenient")
    assert hit.severity is Severity.YELLOW and wording in (hit.compliant or "")
    # the lawyer's fact is another: no EN-ATTY-2 here
    assert [e.hit.rule for e in pressed if e.hit.category == "represented"] == []
