"""Facts of a call shared by its two legs' checkers: the debtor leg's "wrong number" (a ``fact``
rule) makes the agent's later mention of the debt a hit (a rule ``after`` the fact); the pack
fields' checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_monitor.errors import RulePackError
from agent_monitor.model.audio import Leg
from agent_monitor.model.rules import HitEvent, Severity
from qa_rules.engine import RuleSet, load_rules
from tests.qa_rules.facts_support import pack_file, pair, said


def _rules(events: list[HitEvent]) -> list[tuple[str, str]]:
    return [(e.status.value, e.hit.rule) for e in events if e.hit.category in ("third_party", "wrong_party")]


def test_the_debt_named_after_the_debtor_leg_said_wrong_number_is_a_red_hit(ruleset: RuleSet) -> None:
    agent, debtor = pair(ruleset)
    assert _rules(agent.update(said(Leg.AGENT, 0, 0.0, "hello may i speak with sarah johnson"))) == []
    answer = debtor.update(said(Leg.DEBTOR, 0, 4.0, "i think you have the wrong number"))
    assert _rules(answer) == [("confirmed", "EN-WRONG-PARTY-1")]
    assert answer[0].hit.severity is Severity.INFO and agent.facts.since("wrong_party") == pytest.approx(6.0)
    told = agent.update(said(Leg.AGENT, 1, 8.0, "i need to discuss an outstanding balance she has"))
    assert _rules(told) == [("confirmed", "EN-3P-2")]
    assert told[0].hit.severity is Severity.RED and "removed" in (told[0].hit.compliant or "")
    # a refusal to discuss it is no disclosure (the rule drops negated mentions)
    assert _rules(agent.update(said(Leg.AGENT, 2, 14.0, "i cannot discuss any debt with you"))) == []
    # nor is an apology (the pack's allow list: "owe" there is no debt)
    assert _rules(agent.update(said(Leg.AGENT, 3, 18.0, "i owe you an apology for the mix up"))) == []


def test_words_said_before_the_fact_are_no_hit(ruleset: RuleSet) -> None:
    agent, debtor = pair(ruleset)
    # the agent's long utterance named the balance at 1.2 s, before the debtor's words at 3 s
    debtor.update(said(Leg.DEBTOR, 0, 3.0, "wrong number"))
    late = agent.update(said(Leg.AGENT, 0, 0.0, "calling about the balance of your account ok"))
    assert _rules(late) == []
    # without the fact (another call's checkers) the same words are no hit either
    other_agent, _ = pair(ruleset)
    assert _rules(other_agent.update(said(Leg.AGENT, 0, 9.0, "she owes us a balance"))) == []


def test_a_fact_from_a_partial_or_a_withdrawn_hit_counts_for_nothing(ruleset: RuleSet) -> None:
    agent, debtor = pair(ruleset)
    debtor.update(said(Leg.DEBTOR, 0, 1.0, "wrong number", final=False))
    assert agent.facts.since("wrong_party") is None
    debtor.update(said(Leg.DEBTOR, 0, 1.0, "long number"))  # the final says otherwise
    assert _rules(agent.update(said(Leg.AGENT, 0, 5.0, "she owes a balance"))) == []


def test_a_chinese_call_shares_its_facts_too(ruleset: RuleSet) -> None:
    agent, debtor = pair(ruleset, "zh")
    assert _rules(debtor.update(said(Leg.DEBTOR, 0, 1.0, "你 打错 了 吧", lang="zh"))) == [
        ("confirmed", "ZH-WRONG-PARTY-1")
    ]
    told = _rules(agent.update(said(Leg.AGENT, 0, 5.0, "他 有 一笔 欠款 逾期 了", lang="zh")))
    assert told == [("confirmed", "ZH-3P-2")] * 2  # 欠款 and 逾期, each its own evidence


FACT_RULE = """
  - id: T-FACT-1
    title: not the debtor
    category: wrong_party
    severity: info
    languages: [en]
    leg: debtor
    fact: wrong_party
    patterns: ["wrong number"]
    citation: Reg F
    examples: {positive: ["wrong number"], negative: ["right number"]}
"""
AFTER_RULE = """
  - id: T-AFTER-1
    title: debt told
    category: third_party
    severity: red
    languages: [en]
    leg: agent
    after: wrong_party
    patterns: ["debt"]
    citation: FDCPA 805(b)
    compliant: say nothing
    examples: {positive: ["your debt"], negative: ["hello"]}
"""


def test_a_pack_with_a_fact_and_a_rule_after_it_loads(tmp_path: Path) -> None:
    rs = load_rules([pack_file(tmp_path, FACT_RULE, AFTER_RULE)])
    assert [(r.fact, r.after) for r in rs.rules] == [("wrong_party", None), (None, "wrong_party")]


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ((AFTER_RULE,), "rule T-AFTER-1: field 'after': no rule of this pack records the fact 'wrong_party'"),
        (
            (FACT_RULE.replace("fact: wrong_party", "fact: Wrong-Party"),),
            "field 'fact': must be a lower-case name",
        ),
        (
            (FACT_RULE, AFTER_RULE.replace("after: wrong_party", "after: [wrong_party]")),
            "field 'after': must be",
        ),
        (
            (
                FACT_RULE.replace("leg: debtor", "leg: agent\n    compliant: x").replace(
                    "    patterns:", "    kind: verify_first\n    verified: [x]\n    patterns:"
                ),
            ),
            "field 'fact': only match rules take fact",
        ),
    ],
)
def test_a_malformed_fact_or_after_names_the_field(
    tmp_path: Path, rules: tuple[str, ...], expected: str
) -> None:
    with pytest.raises(RulePackError, match=expected):
        load_rules([pack_file(tmp_path, *rules)])
