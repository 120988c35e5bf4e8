"""verify_first rules: account details are a hit until the agent has verified the person
(EN-3P-3), in one text and across a live call's utterances; the pack field's checks; ``$amount``."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_monitor.errors import RulePackError
from agent_monitor.model.audio import Leg
from agent_monitor.model.rules import HitEvent
from agent_monitor.model.transcript import Transcript
from qa_rules.engine import RuleSet, load_rules
from qa_rules.streaming import LegChecker
from qa_rules.text import prepare

RULE = """
  - id: T-VER-1
    title: details first
    category: third_party
    severity: orange
    languages: [en]
    leg: agent
    kind: verify_first
    patterns: ["balance ...3 $amount"]
    verified: ["date_of_birth"]
    citation: FDCPA 805(b)
    compliant: verify first
    examples: {positive: ["your balance is 50 dollars"], negative: ["your date of birth please"]}
"""


def _said(utt: int, text: str, final: bool = True) -> Transcript:
    return Transcript(Leg.AGENT, utt, utt * 5.0, utt * 5.0 + 4.0, text, final)


def _early(events: list[HitEvent]) -> list[tuple[str, str]]:
    return [(e.status.value, e.hit.evidence) for e in events if e.hit.rule == "EN-3P-3"]


@pytest.mark.parametrize(
    "text",
    [
        "I'm calling about your overdue balance of $450 with ABC Credit Union.",
        "you owe four hundred and fifty dollars",
        "Your current balance is three hundred fifty dollars.",
        "Sure! The account number is 123456.",
        "There is 1,250 dollars past due on the card.",
    ],
)
def test_account_details_before_verification_are_a_hit(ruleset: RuleSet, text: str) -> None:
    hits = [h for h in ruleset.check(text, "en", Leg.AGENT) if h.rule == "EN-3P-3"]
    assert hits and hits[0].category == "third_party" and hits[0].compliant
    assert "date of birth" in (hits[0].compliant or "")


@pytest.mark.parametrize(
    "text",
    [
        "I'm calling regarding your outstanding balance with MegaLoans.",  # no detail given
        "Can you confirm your date of birth before we go over the balance of $450?",  # asked first
        "Thank you for verifying your identity. You have an outstanding balance of $250.",
        "The payment was due on June 15th.",
        "Is the one on file still your number?",
    ],
)
def test_no_hit_without_details_or_after_verification_in_the_same_text(ruleset: RuleSet, text: str) -> None:
    assert not [h for h in ruleset.check(text, "en", Leg.AGENT) if h.rule == "EN-3P-3"]


def test_the_debtor_leg_saying_an_amount_is_no_disclosure(ruleset: RuleSet) -> None:
    assert not [h for h in ruleset.check("I owe you 200 dollars", "en", Leg.DEBTOR) if h.rule == "EN-3P-3"]


def test_a_live_call_is_verified_by_an_earlier_final_only(ruleset: RuleSet) -> None:
    checker = LegChecker(ruleset, "en", Leg.AGENT)
    assert _early(checker.update(_said(0, "hello this is mark from xyz collections"))) == []
    # asked in a partial, not yet a final: a disclosure in the next partial of it is checked by position
    assert _early(checker.update(_said(1, "can you give me your date of birth", final=False))) == []
    assert _early(checker.update(_said(1, "can you give me your date of birth"))) == []
    assert _early(checker.update(_said(2, "thank you your balance is five hundred dollars"))) == []


def test_details_before_any_verification_are_provisional_then_confirmed(ruleset: RuleSet) -> None:
    checker = LegChecker(ruleset, "en", Leg.AGENT)
    checker.update(_said(0, "can you confirm your name please"))  # a name alone verifies no one
    first = _early(checker.update(_said(1, "you have a balance of five hundred", final=False)))
    assert first == [("provisional", "balance of five hundred")]
    final = _early(checker.update(_said(1, "you have a balance of five hundred dollars due")))
    assert final == [("confirmed", "balance of five hundred dollars")]
    # once verified, the same details later in the call are no longer a hit
    checker.update(_said(2, "before we go on what are the last four digits of your social"))
    assert _early(checker.update(_said(3, "the balance is five hundred dollars"))) == []


def test_a_provisional_hit_is_withdrawn_when_the_final_verified_first(ruleset: RuleSet) -> None:
    checker = LegChecker(ruleset, "en", Leg.AGENT)
    assert _early(checker.update(_said(0, "balance of 250", final=False))) == [
        ("provisional", "balance of 250")
    ]
    final = _early(checker.update(_said(0, "what is your date of birth so i can go over the balance of 250")))
    assert final == [("withdrawn", "balance of 250")]


def test_a_resumed_checker_replayed_with_the_finals_stays_verified(ruleset: RuleSet) -> None:
    before = [_said(0, "please confirm your home address"), _said(1, "thank you")]
    checker = LegChecker(ruleset, "en", Leg.AGENT)
    for transcript in before:  # what the pipeline's _replay does for a resumed call
        checker.update(transcript)
    assert _early(checker.update(_said(2, "you owe 300 dollars"))) == []


def _pack(tmp_path: Path, rule: str) -> Path:
    path = tmp_path / "pack.yaml"
    path.write_text("pack: t\nversion: 1.0.0\nrules:" + rule, encoding="utf-8")
    return path


def test_a_verify_first_pack_loads_and_its_examples_hold(tmp_path: Path) -> None:
    rs = load_rules([_pack(tmp_path, RULE)])
    assert [r.kind for r in rs.rules] == ["verify_first"]
    assert [h.rule for h in rs.check("your balance is 50 dollars", "en", Leg.AGENT)] == ["T-VER-1"]
    assert rs.check("your date of birth please, then your balance is 50 dollars", "en", Leg.AGENT) == []


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (RULE.replace('    verified: ["date_of_birth"]\n', ""), "field 'verified': required"),
        (
            RULE.replace('verified: ["date_of_birth"]', "verified: []"),
            "field 'verified': must be a non-empty list",
        ),
        (RULE.replace("leg: agent", "leg: any"), "field 'leg': verify_first rules apply to the agent leg"),
        (
            RULE.replace("kind: verify_first", "kind: match"),
            "field 'verified': only verify_first rules have verified wording",
        ),
        (
            RULE.replace('verified: ["date_of_birth"]', 'verified: ["$nosuch"]'),
            "field 'verified': patterns\\[0\\]: unknown macro",
        ),
    ],
)
def test_a_malformed_verify_first_rule_names_the_field(tmp_path: Path, rule: str, expected: str) -> None:
    with pytest.raises(RulePackError, match=expected):
        load_rules([_pack(tmp_path, rule)])


@pytest.mark.parametrize(
    ("text", "is_sum"),
    [
        ("$1,250", True),
        ("450 dollars", True),
        ("four hundred and fifty", True),
        ("fifty bucks", True),
        ("one", False),  # one number word alone is not a sum
        ("15th", False),
        ("fifty", False),
    ],
)
def test_amount_macro(tmp_path: Path, text: str, is_sum: bool) -> None:
    rule = RULE.replace('patterns: ["balance ...3 $amount"]', 'patterns: ["$amount"]')
    rs = load_rules([_pack(tmp_path, rule.replace("your balance is 50 dollars", "50"))])
    assert bool(rs.check(text, "en", Leg.AGENT)) is is_sum, prepare(text, "en").match


@pytest.mark.parametrize(
    ("text", "hit"),
    [
        ("您好，您在我们平台的欠款是三千五百元", True),
        ("你 欠 了 3500 元 一直 没 还", True),  # Vosk's spacing
        ("两千块逾期三个月了", True),
        ("先核实一下您的身份证后四位，您的欠款是三千五百元", False),
        ("我们是就您的欠款来电的", False),
        ("欠了一次", False),
    ],
)
def test_chinese_details_before_verification(ruleset: RuleSet, text: str, hit: bool) -> None:
    assert bool([h for h in ruleset.check(text, "zh", Leg.AGENT) if h.rule == "ZH-3P-3"]) is hit


def test_a_chinese_call_is_verified_by_an_earlier_final(ruleset: RuleSet) -> None:
    checker = LegChecker(ruleset, "zh", Leg.AGENT)
    asked = Transcript(Leg.AGENT, 0, 0.0, 3.0, "请您 提供 一下 出生 日期", True, lang="zh")
    told = Transcript(Leg.AGENT, 1, 5.0, 8.0, "您 的 欠款 是 三千 五百 元", True, lang="zh")
    assert not [e for e in checker.update(asked) + checker.update(told) if e.hit.rule == "ZH-3P-3"]
    fresh = LegChecker(ruleset, "zh", Leg.AGENT)
    assert [e.status.value for e in fresh.update(told) if e.hit.rule == "ZH-3P-3"] == ["confirmed"]
