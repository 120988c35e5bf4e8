"""``rules test``: run every rule's positive and negative examples through the engine."""

from __future__ import annotations

from dataclasses import dataclass

from agent_monitor.model.audio import Leg
from agent_monitor.model.rules import RuleLeg
from qa_rules.engine import RuleSet
from qa_rules.packs import Rule


@dataclass(frozen=True, slots=True)
class ExampleResult:
    """The outcome of one example of one rule."""

    rule: str
    lang: str
    text: str
    expected: bool
    fired: bool
    source: str

    @property
    def ok(self) -> bool:
        return self.expected == self.fired


def _leg(rule: Rule) -> Leg:
    return Leg.DEBTOR if rule.leg is RuleLeg.DEBTOR else Leg.AGENT


def fires(ruleset: RuleSet, rule: Rule, text: str, lang: str) -> bool:
    """Does ``rule`` fire on ``text`` (must-say: is its wording present)?"""
    matcher = ruleset.matcher(lang, _leg(rule))
    if rule.kind == "must_say":
        return rule in matcher.satisfied(text)
    if rule.kind == "model":  # the classifier alone (in use, it defers to pattern hits)
        _, canon, _, _ = matcher.prepare(text)
        return any(f.rule.id == rule.id for f in matcher.model_hits(canon))
    return any(h.rule == rule.id for h in matcher.check(text))


def run_examples(ruleset: RuleSet) -> list[ExampleResult]:
    """Every example of every rule, in every language the rule has, with its outcome."""
    results: list[ExampleResult] = []
    for rule in ruleset.rules:
        for lang in rule.languages:
            for expected, texts in ((True, rule.positive), (False, rule.negative)):
                for text in texts:
                    if not _example_lang_ok(text, lang, rule):
                        continue
                    results.append(
                        ExampleResult(
                            rule.id, lang, text, expected, fires(ruleset, rule, text, lang), rule.source
                        )
                    )
    return results


def _example_lang_ok(text: str, lang: str, rule: Rule) -> bool:
    """Multi-language rules list examples of each language; run each in its own language."""
    if len(rule.languages) == 1:
        return True
    has_cjk = any("\u3400" <= c <= "\u9fff" for c in text)
    return has_cjk == (lang == "zh")
