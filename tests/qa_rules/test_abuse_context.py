"""Context around abusive wording: the speaker, reported speech, negation, the contempt category
and the classifier's hits (probability, evidence span) shown like any other hit."""

from __future__ import annotations

import pytest

from agent_monitor.model.audio import Leg
from agent_monitor.model.rules import RuleLeg
from qa_rules.context import polite
from qa_rules.engine import RuleSet
from qa_rules.packs import ABUSE_CATEGORIES
from qa_rules.text import prepare


def abusive(ruleset: RuleSet, text: str, lang: str, leg: Leg) -> list[str]:
    return [h.rule for h in ruleset.check(text, lang, leg) if h.category in ABUSE_CATEGORIES]


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "A payment plan? Seriously? You think we're running a charity here?"),
        ("en", "Stop wasting my time!"),
        ("en", "How do you plan to pay, or are you just going to ignore it like everyone else?"),
        ("en", "you need to get your act together"),
        ("zh", "还有脸问我要方案？"),
        ("zh", "这点钱都还不上，丢不丢人？"),
        ("zh", "你等着吧，有你好看的"),
    ],
)
def test_contempt_without_a_swear_word_is_flagged(ruleset: RuleSet, lang: str, text: str) -> None:
    assert abusive(ruleset, text, lang, Leg.AGENT), text


def test_contempt_rules_cite_their_legal_basis(ruleset: RuleSet) -> None:
    rules = [r for r in ruleset.rules if r.category == "contempt"]
    assert {lang for r in rules for lang in r.languages} == {"en", "zh"}
    assert any("806" in r.citation for r in rules if "en" in r.languages)
    assert any("1024" in r.citation for r in rules if "zh" in r.languages)


def test_debtor_swearing_is_no_agent_violation(ruleset: RuleSet) -> None:
    for lang, text in (
        ("en", "screw you, you greedy bastard, stop calling me"),
        ("zh", "你们这帮骗子，傻逼，滚"),
    ):
        hits = ruleset.check(text, lang, Leg.DEBTOR)
        assert hits, text  # it feeds escalation and the agent's support ...
        for hit in hits:  # ... through debtor rules only, never an agent rule
            assert ruleset.rule(hit.rule).leg is RuleLeg.DEBTOR
            assert hit.leg is Leg.DEBTOR
            assert hit.compliant is None


def test_classifier_hit_carries_probability_and_evidence(ruleset: RuleSet) -> None:
    text = "Listen, lady, you have got to pay up already!"
    # (EN-ATTY-2 on "pay" waits for the person to name a lawyer: a call's fact, left out here)
    (hit,) = [h for h in ruleset.check(text, "en", Leg.AGENT) if ruleset.rule(h.rule).after is None]
    assert hit.rule == "EN-ABUSE-MODEL-1" and hit.category == "abusive_tone"
    assert hit.probability is not None and hit.probability >= 0.75
    assert hit.span is not None and hit.evidence == text[hit.span[0] : hit.span[1]]
    assert "pay up" in hit.evidence  # the words that weighed most
    assert "p=" in hit.reason and hit.compliant
    (debtor,) = ruleset.check(text, "en", Leg.DEBTOR)
    assert debtor.rule == "EN-DEBTOR-ABUSE-MODEL-1" and debtor.compliant is None


def test_questions_about_what_someone_else_said_are_reported_speech(ruleset: RuleSet) -> None:
    assert not abusive(ruleset, "Did he call you a deadbeat?", "en", Leg.AGENT)
    assert abusive(ruleset, "I called you three times, you deadbeat.", "en", Leg.AGENT)


def test_classifier_defers_to_reported_speech(ruleset: RuleSet) -> None:
    rule = next(r for r in ruleset.rules if r.id == "EN-ABUSE-MODEL-1")
    assert rule.reported and rule.negation
    assert abusive(ruleset, "you have got to pay up already", "en", Leg.AGENT)
    for text in ("he said i have got to pay up already", "he called me a worthless lazy idiot"):
        assert not abusive(ruleset, text, "en", Leg.AGENT), text


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "We work with a charity that offers free credit counselling."),
        ("en", "I don't want to waste your time, so I'll be brief."),
        ("en", "He called you a deadbeat? That is not acceptable and I will report it."),
        ("en", "Thank you for confirming that. Could you also provide your current address?"),
        ("zh", "您刚才说我们的人骂您活该，这是不对的，我向您道歉"),
        ("zh", "您好，请问是张先生吗？我是银行信用卡中心的工作人员"),
    ],
)
def test_polite_reported_and_neutral_agent_lines_are_not_flagged(
    ruleset: RuleSet, lang: str, text: str
) -> None:
    assert not abusive(ruleset, text, lang, Leg.AGENT), text


def test_politeness_asks_the_classifier_for_more_certainty(ruleset: RuleSet) -> None:
    model = ruleset.models["abuse-en"]
    polite_text = "Listen, you have got to pay up, please."
    probability = model.score(prepare(polite_text, "en").match).probability
    assert model.threshold is not None and model.threshold <= probability < (1 + model.threshold) / 2
    assert not abusive(ruleset, polite_text, "en", Leg.AGENT)
    assert abusive(ruleset, "Listen, lady, you have got to pay up already!", "en", Leg.AGENT)
    assert abusive(ruleset, "Please just pay the damn bill.", "en", Leg.AGENT)  # rules unaffected
    assert polite("请您明天还款", "zh") and not polite("你等着吧", "zh")
