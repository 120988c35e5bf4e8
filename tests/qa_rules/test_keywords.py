"""Key terms for the recogniser's second pass come from the shipped abuse packs."""

from __future__ import annotations

from agent_monitor.model.audio import Leg
from qa_rules.engine import RuleSet
from qa_rules.keywords import key_terms
from qa_rules.offline.evaluate import engine_flags


def test_key_terms_are_the_words_that_alone_are_abusive(ruleset: RuleSet) -> None:
    terms = key_terms(ruleset, "en", Leg.AGENT)
    assert {"damn", "crap", "shit", "idiot"} <= set(terms)
    assert not {"stupid", "you", "your", "hell"} & set(terms)  # need context to be a hit
    assert all(engine_flags(ruleset, t, "en") for t in terms)
    assert all(" " not in t for t in terms) and terms == tuple(sorted(terms))


def test_no_key_terms_for_chinese(ruleset: RuleSet) -> None:
    assert key_terms(ruleset, "zh", Leg.AGENT) == ()
