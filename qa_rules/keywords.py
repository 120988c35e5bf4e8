"""Key terms of the abuse rules, for a recogniser's second pass (see ``asr/keyword_rescore.py``).

A key term is a single word of any term list of the packs that, said on its own on ``leg``, is
already an abusive-category hit (profanity such as "damn", "crap"; strong insults): the words
whose loss in recognition loses a hit. Derived from the packs, so it follows them.
"""

from __future__ import annotations

import re

from agent_monitor.model.audio import Leg
from qa_rules.engine import RuleSet
from qa_rules.packs import ABUSE_CATEGORIES

_WORD = re.compile(r"[a-z]+")


def key_terms(ruleset: RuleSet, lang: str, leg: Leg) -> tuple[str, ...]:
    """The single words that alone are an abusive hit on ``leg`` in ``lang`` (sorted)."""
    if lang != "en":
        return ()
    matcher = ruleset.matcher(lang, leg)
    words = {t for p in ruleset.packs for tl in p.lists.values() for t in tl.terms if _WORD.fullmatch(t)}
    out = []
    for word in sorted(words):
        _, found = matcher.find(word)
        if any(f.rule.category in ABUSE_CATEGORIES for f in found):
            out.append(word)
    return tuple(out)
