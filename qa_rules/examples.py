"""Each rule's own examples (``examples: {positive: [...], negative: [...]}``) run through the
engine: the one judge of ``agent-monitor rules test``, ``rules lint``, the admin pages' pack check
and upload (a pack whose examples fail is refused) and the server's start (failing examples of the
packs in use are logged, one warning each: monitoring goes on).

A positive example must make its rule fire, a negative one must not; a must-say rule "fires" when
its wording is present, a model rule when its classifier alone scores the example at or over the
threshold (in use it defers to pattern hits). A model rule whose model is not loaded
(``load_rules(..., with_models=False)``) has no examples run."""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from agent_monitor.model.audio import Leg
from agent_monitor.model.rules import RuleLeg
from qa_rules.engine import RuleSet
from qa_rules.pack_types import Rule

log = logging.getLogger(__name__)
#: failing examples named in a one-line message; the rest are counted
SHOWN_FAILURES = 5


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

    def describe(self) -> str:
        """``rule R [en] example 'text': expected a hit, got none`` (one line)."""
        got = "expected a hit, got none" if self.expected else "expected no hit, got one"
        return f"rule {self.rule} [{self.lang}] example {self.text!r}: {got}"


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


def run_examples(
    ruleset: RuleSet, rules: Iterable[Rule] | None = None, langs: Collection[str] | None = None
) -> list[ExampleResult]:
    """Every example of every rule (default: all of ``ruleset``), in every language the rule has
    (or only those of ``langs``), with its outcome."""
    results: list[ExampleResult] = []
    for rule in ruleset.rules if rules is None else rules:
        if rule.kind == "model" and rule.model not in ruleset.models:
            continue
        for lang in rule.languages if langs is None else [x for x in rule.languages if x in langs]:
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


def failing_examples(
    ruleset: RuleSet, rules: Iterable[Rule] | None = None, langs: Collection[str] | None = None
) -> list[ExampleResult]:
    """The examples of :func:`run_examples` whose rule does not do what they say."""
    return [r for r in run_examples(ruleset, rules, langs) if not r.ok]


def failures_message(failed: list[ExampleResult]) -> str:
    """One line naming the failing examples (the first :data:`SHOWN_FAILURES`, then a count)."""
    count = f"{len(failed)} example{'s' if len(failed) != 1 else ''} of its rules fail"
    named = "; ".join(r.describe() for r in failed[:SHOWN_FAILURES])
    more = f"; and {len(failed) - SHOWN_FAILURES} more" if len(failed) > SHOWN_FAILURES else ""
    return f"{count}: {named}{more}"


_warned: set[tuple[str, str, str, str, bool]] = set()
_warned_lock = threading.Lock()


def warn_failing_examples(
    ruleset: RuleSet,
    rules: Iterable[Rule] | None = None,
    shown: Mapping[str, str] | None = None,
    langs: Collection[str] | None = None,
) -> list[ExampleResult]:
    """Log a warning for each failing example of the rules in use (once per process: the server's
    preflight and start load the same packs); ``shown`` names pack files as the admin knows them;
    ``langs``: only the examples of these languages (default: all)."""
    failed = failing_examples(ruleset, rules, langs)
    for r in failed:
        source = (shown or {}).get(r.source, r.source)
        with _warned_lock:
            if (source, r.rule, r.lang, r.text, r.expected) in _warned:
                continue
            _warned.add((source, r.rule, r.lang, r.text, r.expected))
        log.warning(
            "rule pack %s: %s; the rule stays in use (see agent-monitor rules test)", source, r.describe()
        )
    return failed


def _example_lang_ok(text: str, lang: str, rule: Rule) -> bool:
    """Multi-language rules list examples of each language; run each in its own language."""
    if len(rule.languages) == 1:
        return True
    has_cjk = any("\u3400" <= c <= "\u9fff" for c in text)
    return has_cjk == (lang == "zh")
