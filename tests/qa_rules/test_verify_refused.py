"""A verification the person refused does not count: the debtor leg's refusal (EN/ZH-VERIFY-REFUSED-1,
a ``fact``) undoes the agent's earlier verifying request for EN/ZH-3P-3 (its ``refused`` field),
until the agent asks again; the pack field's checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_monitor.errors import RulePackError
from agent_monitor.model.audio import Leg
from agent_monitor.model.rules import CallFacts, HitEvent, HitStatus, Severity
from qa_rules.engine import RuleSet, load_rules
from tests.qa_rules.facts_support import pack_file, pair, said

_CATEGORIES = ("third_party", "unverified")


def _rules(events: list[HitEvent]) -> list[str]:
    return [e.hit.rule for e in events if e.hit.category in _CATEGORIES and e.status is HitStatus.CONFIRMED]


def test_a_refused_verification_leaves_the_balance_a_hit_until_the_agent_asks_again(
    ruleset: RuleSet,
) -> None:
    agent, debtor = pair(ruleset)
    assert _rules(agent.update(said(Leg.AGENT, 0, 0.0, "can you please confirm your address"))) == []
    refused = debtor.update(said(Leg.DEBTOR, 0, 4.0, "why the hell would i tell you anything"))
    assert _rules(refused) == ["EN-VERIFY-REFUSED-1"]
    [hit] = [e.hit for e in refused if e.hit.rule == "EN-VERIFY-REFUSED-1"]
    assert hit.severity is Severity.INFO and agent.facts.since("refused_verification") == 4.0
    told = agent.update(said(Leg.AGENT, 1, 8.0, "you currently have a balance of $800"))
    assert _rules(told) == ["EN-3P-3"]
    # asked again and answered: the person is verified from then on
    agent.update(said(Leg.AGENT, 2, 14.0, "i just need your date of birth to verify your identity"))
    assert _rules(debtor.update(said(Leg.DEBTOR, 1, 18.0, "fine it's july 15 1985"))) == []
    assert _rules(agent.update(said(Leg.AGENT, 3, 22.0, "thank you, your balance is $800"))) == []


def test_a_refusal_before_the_request_does_not_undo_it(ruleset: RuleSet) -> None:
    agent, debtor = pair(ruleset)
    assert _rules(debtor.update(said(Leg.DEBTOR, 0, 0.0, "that's none of your business"))) == [
        "EN-VERIFY-REFUSED-1"
    ]
    agent.update(said(Leg.AGENT, 0, 3.0, "before we go on can you confirm your date of birth"))
    debtor.update(said(Leg.DEBTOR, 1, 7.0, "january 15 1990"))
    assert _rules(agent.update(said(Leg.AGENT, 1, 10.0, "you owe four hundred fifty dollars"))) == []


def test_an_answer_that_is_no_refusal_keeps_the_verification(ruleset: RuleSet) -> None:
    agent, debtor = pair(ruleset)
    agent.update(said(Leg.AGENT, 0, 0.0, "can you confirm your date of birth"))
    # not paying is no refusal to say who one is
    assert _rules(debtor.update(said(Leg.DEBTOR, 0, 3.0, "sure it's may 2 1980 but i'm not paying"))) == []
    assert _rules(agent.update(said(Leg.AGENT, 1, 8.0, "your balance is $250"))) == []


def test_a_resumed_call_replaying_each_leg_in_turn_judges_by_call_time(ruleset: RuleSet) -> None:
    """The pipeline replays a resumed call's stored finals leg by leg (agent first): the refusal,
    replayed after every agent final, still undoes only the request it came after."""
    agent, debtor = pair(ruleset)
    agent.update(said(Leg.AGENT, 0, 0.0, "can you confirm your address"))
    agent.update(said(Leg.AGENT, 1, 20.0, "can you confirm your date of birth then"))
    debtor.update(said(Leg.DEBTOR, 0, 5.0, "i'm not giving you my address"))
    assert _rules(agent.update(said(Leg.AGENT, 2, 30.0, "your balance is $800"))) == []  # asked at 20 s
    agent2, debtor2 = pair(ruleset)
    agent2.update(said(Leg.AGENT, 0, 0.0, "can you confirm your address"))
    debtor2.update(said(Leg.DEBTOR, 0, 5.0, "i'm not giving you my address"))
    assert _rules(agent2.update(said(Leg.AGENT, 1, 30.0, "your balance is $800"))) == ["EN-3P-3"]


def test_a_chinese_refusal_undoes_the_request_too(ruleset: RuleSet) -> None:
    agent, debtor = pair(ruleset, "zh")
    agent.update(said(Leg.AGENT, 0, 0.0, "请 提供 一下 身份证 后四位", lang="zh"))
    assert _rules(debtor.update(said(Leg.DEBTOR, 0, 4.0, "凭什么 告诉 你", lang="zh"))) == [
        "ZH-VERIFY-REFUSED-1"
    ]
    assert _rules(agent.update(said(Leg.AGENT, 1, 8.0, "您 的 欠款 是 三千五百 元", lang="zh"))) == [
        "ZH-3P-3"
    ]


def test_facts_said_between_includes_both_ends() -> None:
    facts = CallFacts()
    facts.record("x", 5.0)
    facts.record("x", 2.0)
    assert facts.since("x") == 2.0
    assert facts.said_between("x", 5.0, 9.0) and facts.said_between("x", 0.0, 2.0)
    assert not facts.said_between("x", 2.5, 4.9) and not facts.said_between("y", 0.0, 9.0)
    trial = CallFacts(all_said_at=0.0)  # the admin's "try on text": every fact said at the start
    assert trial.since("y") == 0.0 and trial.said_between("y", 0.0, 1.0)
    assert not trial.said_between("y", 0.5, 1.0)


REFUSAL = """
  - id: T-NO-1
    title: refused
    category: unverified
    severity: info
    languages: [en]
    leg: debtor
    fact: refused_verification
    patterns: ["none of your business"]
    citation: Reg F
    examples: {positive: ["none of your business"], negative: ["sure"]}
"""
VERIFY = """
  - id: T-VERIFY-1
    title: balance before verification
    category: third_party
    severity: orange
    languages: [en]
    leg: agent
    kind: verify_first
    refused: refused_verification
    patterns: ["balance ...3 $amount"]
    verified: ["date_of_birth"]
    citation: FDCPA 805(b)
    compliant: ask first
    examples: {positive: ["your balance is $5"], negative: ["hello"]}
"""


def test_a_pack_with_a_refusal_fact_loads(tmp_path: Path) -> None:
    rs = load_rules([pack_file(tmp_path, REFUSAL, VERIFY)])
    assert [r.refused for r in rs.rules] == [None, "refused_verification"]


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ((VERIFY,), "rule T-VERIFY-1: field 'refused': no rule of this pack records the fact"),
        (
            (REFUSAL, VERIFY.replace("refused: refused_verification", "refused: Refused")),
            "field 'refused': must be a lower-case name",
        ),
        (
            (REFUSAL.replace("fact: refused_verification", "refused: refused_verification"),),
            "field 'refused': only verify_first rules take refused",
        ),
    ],
)
def test_a_malformed_refused_names_the_field(tmp_path: Path, rules: tuple[str, ...], expected: str) -> None:
    with pytest.raises(RulePackError, match=expected):
        load_rules([pack_file(tmp_path, *rules)])
