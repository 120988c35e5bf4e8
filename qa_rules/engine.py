"""The rule set and the per-(language, leg) matcher that turns one utterance into hits."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from agent_monitor.errors import RulePackError, RulePatternTimeoutError
from agent_monitor.model.audio import Leg
from agent_monitor.model.rules import RuleHit
from agent_monitor.model.transcript import Word
from agent_monitor.settings import Settings
from qa_rules.classifier import AbuseModel, load_model
from qa_rules.context import negated, polite, reported
from qa_rules.packs import (
    ABUSE_CATEGORIES,
    CompiledPatterns,
    Rule,
    RulePack,
    allow_regex,
    load_pack,
    pack_files,
)
from qa_rules.reasons import rule_reason
from qa_rules.text import Prepared, prepare
from qa_rules.timed_regex import Match, TimedPattern
from qa_rules.zh_lang import HomophoneIndex, Substitution, word_bounds

#: a text as the rules read it: prepared, its canonical match string (homophones rewritten), the
#: substitutions made, and the ranges allowed wording covers
Reading = tuple[Prepared, str, tuple[Substitution, ...], tuple[tuple[int, int], ...]]

log = logging.getLogger(__name__)


class RuleSet:
    """Validated rules from one or more packs, plus the trained models their model rules use."""

    def __init__(
        self, packs: Sequence[RulePack], models: dict[str, AbuseModel], must_say_window_s: float = 30.0
    ) -> None:
        self.packs = tuple(packs)
        self.models = dict(models)
        self.must_say_window_s = must_say_window_s
        rules: list[Rule] = []
        owner: dict[str, str] = {}
        for pack in self.packs:
            for rule in pack.rules:
                if rule.id in owner:
                    raise RulePackError(
                        pack.source, f"rule id also defined in {owner[rule.id]}", rule=rule.id, field="id"
                    )
                owner[rule.id] = pack.source
                rules.append(rule)
        self.rules = tuple(rules)
        self._by_id = {r.id: r for r in rules}
        self._matchers: dict[tuple[str, Leg | None], Matcher] = {}

    def rule(self, rule_id: str) -> Rule:
        return self._by_id[rule_id]

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(lang for r in self.rules for lang in r.languages)

    def matcher(self, lang: str, leg: Leg | None) -> Matcher:
        """The (cached) matcher for ``lang`` on ``leg`` (``None``: rules of every leg)."""
        key = (lang, leg)
        m = self._matchers.get(key)
        if m is None:
            m = self._matchers[key] = Matcher(self, lang, leg)
        return m

    def check(
        self,
        text: str,
        lang: str,
        leg: Leg | None = None,
        *,
        utterance: int | None = None,
        words: Sequence[Word] = (),
    ) -> list[RuleHit]:
        """All hits of the match and model rules on one utterance (must-say rules need a clock)."""
        return self.matcher(lang, leg).check(text, utterance=utterance, words=words)


def load_rules(
    paths: Iterable[Path],
    *,
    model_dir: Path | None = None,
    must_say_window_s: float = 30.0,
    with_models: bool = True,
) -> RuleSet:
    """Load and validate the packs at ``paths`` (files or folders) and the models they name.

    ``with_models=False`` loads no model: model rules stay inactive (for training the models).
    """
    packs = [load_pack(p) for p in pack_files(list(paths))]
    return rules_of_packs(
        packs, model_dir=model_dir, must_say_window_s=must_say_window_s, with_models=with_models
    )


def rules_of_packs(
    packs: Sequence[RulePack],
    *,
    model_dir: Path | None = None,
    must_say_window_s: float = 30.0,
    with_models: bool = True,
) -> RuleSet:
    """The rule set of packs already loaded, with the models their model rules name."""
    models: dict[str, AbuseModel] = {}
    for pack in packs if with_models else []:
        for rule in pack.rules:
            if rule.model and rule.model not in models:
                if model_dir is None:
                    raise RulePackError(pack.source, "no model folder given", rule=rule.id, field="model")
                model = load_model(model_dir / f"{rule.model}.json")
                if model.lang not in rule.languages:
                    raise RulePackError(
                        pack.source, f"model {rule.model} is for {model.lang}", rule=rule.id, field="model"
                    )
                if rule.threshold is None and model.threshold is None:
                    raise RulePackError(
                        pack.source,
                        f"model {rule.model} stores no threshold",
                        rule=rule.id,
                        field="threshold",
                    )
                models[rule.model] = model
    return RuleSet(packs, models, must_say_window_s)


def load_rules_from_settings(settings: Settings) -> RuleSet:
    """The rule set named by ``settings.rules`` (packs, model folder, must-say window)."""
    cfg = settings.rules
    return load_rules(cfg.packs, model_dir=cfg.model_dir, must_say_window_s=cfg.must_say_window_s)


@dataclass(frozen=True, slots=True)
class _Found:
    rule: Rule
    start: int
    end: int
    reason: str
    probability: float | None = None


class Matcher:
    """Applies the rules of one language and leg to utterances."""

    def __init__(self, ruleset: RuleSet, lang: str, leg: Leg | None) -> None:
        self.lang = lang
        self.leg = leg
        applicable = [
            r for r in ruleset.rules if lang in r.languages and (leg is None or r.leg.applies_to(leg))
        ]
        self.match_rules = tuple(r for r in applicable if r.kind == "match")
        self.model_rules = tuple(r for r in applicable if r.kind == "model" and r.model in ruleset.models)
        self.must_say_rules = tuple(r for r in applicable if r.kind == "must_say")
        #: rules on wording that must wait until the person is verified (see :meth:`verified`)
        self.verify_rules = tuple(r for r in applicable if r.kind == "verify_first")
        self.models = ruleset.models
        packs = [p for p in ruleset.packs if any(lang in r.languages for r in p.rules)]
        self._allow = allow_regex(packs, lang)
        self._regexes = [(r, r.compiled[lang]) for r in self.match_rules + self.verify_rules]
        #: searches given up on (:mod:`qa_rules.timed_regex`), and the rules they were of
        self.timeouts = 0
        self._timed_out_rules: set[str] = set()
        #: the last text read and its reading (:meth:`prepare`; replaced whole, so threads may share)
        self._last: tuple[str, Reading] | None = None
        homophones: list[tuple[str, bool]] = []
        if lang == "zh":
            for pack in packs:
                for tl in pack.lists.values():
                    if tl.homophones != "off":
                        homophones.extend((t, tl.homophones == "addressed") for t in tl.terms)
        self._homophones = HomophoneIndex(homophones)

    def prepare(self, text: str) -> Reading:
        """Prepared text, the canonical match string (homophones rewritten) and allowed ranges. The
        last text's reading is kept: a final transcript is read for its hits, its must-say wording
        and its verifying wording (:mod:`qa_rules.streaming`), once."""
        last = self._last
        if last is not None and last[0] == text:
            return last[1]
        reading = self._read(text)
        self._last = (text, reading)
        return reading

    def _read(self, text: str) -> Reading:
        prep = prepare(text, self.lang)
        allowed: list[tuple[int, int]] = []
        if self._allow is not None:
            allowed = [m.span() for m in self._allow.finditer(prep.match)]
        canon = prep.match
        subs: tuple[Substitution, ...] = ()
        if self._homophones:
            canon, subs = self._homophones.canonicalize(prep.match, allowed)
            if subs and self._allow is not None:
                allowed.extend(m.span() for m in self._allow.finditer(canon))
        return prep, canon, subs, tuple(allowed)

    def find(self, text: str, *, models: bool = True) -> tuple[Prepared, list[_Found]]:
        prep, canon, subs, allowed = self.prepare(text)
        found: list[_Found] = []
        for rule, comp in self._regexes:
            try:
                found.extend(self._rule_hits(rule, comp, canon, allowed, subs))
            except RulePatternTimeoutError as exc:  # a pack defect: the other rules still count
                self._timed_out(rule, exc)
        if models and self.model_rules and not any(f.rule.category in ABUSE_CATEGORIES for f in found):
            found.extend(self.model_hits(canon))
        return prep, found

    def _rule_hits(
        self,
        rule: Rule,
        comp: CompiledPatterns,
        canon: str,
        allowed: tuple[tuple[int, int], ...],
        subs: tuple[Substitution, ...],
    ) -> list[_Found]:
        if comp.regex is None:
            return []
        found: list[_Found] = []
        unless_checked = False
        verified_at = _first(comp.verified, canon)
        for m in comp.regex.finditer(canon):
            s, e = m.span()
            if e == s or s > verified_at or any(a <= s and e <= b for a, b in allowed):
                continue
            if comp.word_groups and not self._on_word_bounds(canon, m, comp.word_groups):
                continue
            if rule.negation and negated(canon, s, self.lang):
                continue
            if rule.reported and reported(canon, s, self.lang):
                continue
            if comp.unless is not None and not unless_checked:
                if comp.unless.search(canon):
                    break
                unless_checked = True
            found.append(_Found(rule, s, e, self._reason(rule, s, e, subs)))
        return found

    def _timed_out(self, rule: Rule, exc: RulePatternTimeoutError) -> None:
        """Say once per rule and matcher that a pattern is too slow to check (the pack needs fixing)."""
        self.timeouts += 1
        if rule.id not in self._timed_out_rules:
            self._timed_out_rules.add(rule.id)
            log.error("rule %s (%s) skipped on a text: %s; fix the pack", rule.id, rule.source, exc.problem)

    def model_hits(self, canon: str) -> list[_Found]:
        """Classifier ("abusive tone") hits: probability at or over the rule's threshold, the
        evidence is the range of its strongest cues; none on utterances too short for a tone
        judgement; polite wording raises the threshold halfway to 1; dropped when the evidence is
        negated or reported speech and the rule asks."""
        out: list[_Found] = []
        for rule in self.model_rules:
            model = self.models[rule.model or ""]
            if not model.long_enough(canon):
                continue
            score = model.score(canon)
            threshold = rule.threshold if rule.threshold is not None else model.threshold
            if threshold is None:
                continue
            if polite(canon, self.lang):  # polite wording: ask for half of the remaining certainty
                threshold += (1.0 - threshold) / 2
            if score.probability < threshold:
                continue
            s, e = score.span or (0, len(canon))
            if rule.negation and negated(canon, s, self.lang):
                continue
            if rule.reported and reported(canon, s, self.lang):
                continue
            cues = ", ".join(repr(c) for c in score.cues)
            reason = (
                f"{rule_reason(rule, self.lang)} ({model.name} {model.version} gives "
                f"p={score.probability:.2f} >= {threshold:.2f}; strongest cues: {cues})"
            )
            out.append(_Found(rule, s, e, reason, score.probability))
        return out

    def check(
        self,
        text: str,
        *,
        utterance: int | None = None,
        words: Sequence[Word] = (),
        models: bool = True,
    ) -> list[RuleHit]:
        """Hits on one utterance; ``models=False`` leaves out the classifier (partial transcripts)."""
        prep, found = self.find(text, models=models)
        word_spans = _word_spans(text, words) if words else []
        hits: list[RuleHit] = []
        for f in found:
            o_start, o_end = prep.span(f.start, f.end)
            start = end = None
            if word_spans:
                inside = [(ws, we) for (a, b), (ws, we) in word_spans if a < o_end and o_start < b]
                if inside:
                    start, end = inside[0][0], inside[-1][1]
            hits.append(
                RuleHit(
                    rule=f.rule.id,
                    title=f.rule.title,
                    category=f.rule.category,
                    severity=f.rule.severity,
                    leg=self.leg,
                    span=(o_start, o_end),
                    evidence=text[o_start:o_end],
                    reason=f.reason,
                    citation=f.rule.citation,
                    compliant=f.rule.compliant,
                    utterance=utterance,
                    start=start,
                    end=end,
                    probability=None if f.probability is None else round(f.probability, 4),
                    after=f.rule.after,
                )
            )
        return hits

    def satisfied(self, text: str) -> list[Rule]:
        """The must-say rules whose wording occurs in ``text``."""
        if not self.must_say_rules:
            return []
        _, canon, _, _ = self.prepare(text)
        out = []
        for rule in self.must_say_rules:
            regex = rule.compiled[self.lang].regex
            try:
                if regex is not None and regex.search(canon):
                    out.append(rule)
            except RulePatternTimeoutError as exc:
                self._timed_out(rule, exc)
        return out

    def verified(self, text: str) -> list[Rule]:
        """The verify_first rules whose verifying wording occurs in ``text``: in a final
        transcript it verifies the person for the rest of the call (:mod:`qa_rules.streaming`);
        inside one text, only wording after it is verified (:meth:`check`)."""
        if not self.verify_rules:
            return []
        _, canon, _, _ = self.prepare(text)
        out = []
        for rule in self.verify_rules:
            try:
                if _first(rule.compiled[self.lang].verified, canon) < len(canon):
                    out.append(rule)
            except RulePatternTimeoutError as exc:
                self._timed_out(rule, exc)
        return out

    def _on_word_bounds(self, canon: str, m: Match, groups: tuple[str, ...]) -> bool:
        bounds: frozenset[int] | None = None
        for g in groups:
            if m.group(g) is None:
                continue
            if bounds is None:
                bounds = word_bounds(canon)
            gs, ge = m.span(g)
            if gs not in bounds or ge not in bounds:
                return False
        return True

    def _reason(self, rule: Rule, s: int, e: int, subs: tuple[Substitution, ...]) -> str:
        """Why the rule exists (the evidence itself is the hit's ``evidence``), and any sound-alike
        the match relied on."""
        reason = rule_reason(rule, self.lang)
        heard = [x for x in subs if x.start < e and s < x.end]
        if heard:
            reason += " (" + "; ".join(f"heard {x.heard!r}, sounds like {x.term!r}" for x in heard) + ")"
        return reason


def _first(pattern: TimedPattern | None, canon: str) -> int:
    """Where ``pattern`` first matches ``canon`` (past the end of ``canon`` when it does not)."""
    m = pattern.search(canon) if pattern is not None else None
    return m.start() if m is not None else len(canon) + 1


def _word_spans(text: str, words: Sequence[Word]) -> list[tuple[tuple[int, int], tuple[float, float]]]:
    """Character range of every recognised word in ``text`` (in order), with its times."""
    out: list[tuple[tuple[int, int], tuple[float, float]]] = []
    pos = 0
    lowered = text.lower()
    for w in words:
        token = w.text.strip().lower()
        if not token:
            continue
        i = lowered.find(token, pos)
        if i < 0:
            continue
        out.append(((i, i + len(token)), (w.start, w.end)))
        pos = i + len(token)
    return out
