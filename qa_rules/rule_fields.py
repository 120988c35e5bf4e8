"""Reading one rule of a pack (an entry of its ``rules`` list) into a :class:`Rule`: each field
checked, the patterns compiled per language; every problem is a
:class:`~agent_monitor.errors.RulePackError` naming the file, the rule and the field."""

from __future__ import annotations

import math
import re
from typing import Any

from agent_monitor.errors import RulePackError
from agent_monitor.model.rules import RuleLeg, Severity
from qa_rules.pack_fields import str_field as _str
from qa_rules.pack_fields import str_list as _str_list
from qa_rules.pack_types import CATEGORIES, KINDS, LANGUAGES, CompiledPatterns, Rule
from qa_rules.patterns import PatternError, TermList, compile_patterns
from qa_rules.timed_regex import TimedPattern

_RULE_KEYS = {
    "id", "title", "category", "severity", "languages", "leg", "kind", "patterns", "unless",
    "negation", "reported", "citation", "compliant", "reason", "examples", "within_s", "model",
    "threshold", "missed", "label", "verified", "fact", "after", "refused",
}  # fmt: skip
_ID = re.compile(r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+$")
_FACT = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_ONLY_VERIFY_FIRST = "only verify_first rules have verified wording"
#: the longest checklist label of a must_say rule
LABEL_MAX = 40


def _missed(raw: dict[str, Any], kind: str, src: str, rid: str) -> str | None:
    """The title of a must-say rule's miss (required for must_say, refused for other kinds)."""
    if kind != "must_say":
        if "missed" in raw:
            raise RulePackError(src, "only must_say rules have a missed title", rule=rid, field="missed")
        return None
    missed = _str(raw, "missed", src, rid)
    if "{window}" not in missed:
        raise RulePackError(src, "must contain {window} (the window in seconds)", rule=rid, field="missed")
    try:  # the title is formatted when the window passes, on the live path: any other field would fail there
        missed.format(window="1")
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        raise RulePackError(
            src,
            f"only {{window}} may stand in braces (write {{{{ or }}}} for a brace): {exc!r}",
            rule=rid,
            field="missed",
        ) from None
    return missed


def _label(raw: dict[str, Any], kind: str, src: str, rid: str) -> str | None:
    """The checklist label of a must-say rule (required for must_say, refused for other kinds)."""
    if kind != "must_say":
        if "label" in raw:
            raise RulePackError(src, "only must_say rules have a checklist label", rule=rid, field="label")
        return None
    label = _str(raw, "label", src, rid)
    if len(label) > LABEL_MAX:
        raise RulePackError(src, f"at most {LABEL_MAX} characters", rule=rid, field="label")
    return label


def read_rule(
    raw: Any, index: int, src: str, pack: str, lists: dict[str, TermList], allow: list[str]
) -> Rule:
    """The ``index``-th entry of a pack's ``rules`` validated into a :class:`Rule` (``src``: the file)."""
    rid = _rule_id(raw, index, src)
    title = _str(raw, "title", src, rid)
    category = _str(raw, "category", src, rid)
    if category not in CATEGORIES:
        raise RulePackError(src, f"unknown category {category!r} (one of {', '.join(sorted(CATEGORIES))})",
                            rule=rid, field="category")  # fmt: skip
    severity = _severity(raw, src, rid)
    languages = _str_list(raw.get("languages"), src, rid, "languages")
    if not languages or set(languages) - LANGUAGES:
        raise RulePackError(src, "languages must list en and/or zh", rule=rid, field="languages")
    leg = _leg(raw, src, rid)
    kind = raw.get("kind", "match")
    if not isinstance(kind, str) or kind not in KINDS:
        raise RulePackError(src, f"kind must be one of {sorted(KINDS)}", rule=rid, field="kind")
    citation = _str(raw, "citation", src, rid)
    compliant = _str(raw, "compliant", src, rid, required=leg is not RuleLeg.DEBTOR) or None
    reason = _str(raw, "reason", src, rid, required=False) or None
    flags = _flags(raw, src, rid)
    positive, negative = _examples(raw, src, rid)
    within_s = _number(raw, "within_s", src, rid, kind == "must_say", required=False)
    missed = _missed(raw, kind, src, rid)
    label = _label(raw, kind, src, rid)
    threshold = _number(raw, "threshold", src, rid, kind == "model", required=False)
    if threshold is not None and not 0.0 < threshold < 1.0:
        raise RulePackError(
            src, "threshold must be a probability between 0 and 1", rule=rid, field="threshold"
        )
    model = _model_name(raw, kind, leg, src, rid)
    fact = _fact_name(raw, "fact", ("match",), kind, src, rid)
    after = _fact_name(raw, "after", ("match", "verify_first"), kind, src, rid)
    refused = _fact_name(raw, "refused", ("verify_first",), kind, src, rid)
    compiled: dict[str, CompiledPatterns] = {}
    for lang in languages:
        compiled[lang] = _compile(raw, kind, lang, lists, allow, src, rid)
    return Rule(
        id=rid, title=title, category=category, severity=severity, languages=tuple(languages),
        leg=leg, kind=kind, citation=citation, compliant=compliant, reason=reason,
        negation=flags["negation"], reported=flags["reported"], positive=tuple(positive),
        negative=tuple(negative), compiled=compiled, within_s=within_s, missed=missed, label=label,
        model=model, threshold=threshold, pack=pack, source=src, fact=fact, after=after,
        refused=refused,
    )  # fmt: skip


def _fact_name(
    raw: dict[str, Any], key: str, kinds: tuple[str, ...], kind: str, src: str, rid: str
) -> str | None:
    """A fact of the call the rule records (``fact``), waits for (``after``) or is undone by
    (``refused``): a lower-case name."""
    if key not in raw:
        return None
    if kind not in kinds:
        raise RulePackError(src, f"only {' and '.join(kinds)} rules take {key}", rule=rid, field=key)
    value = raw[key]
    if not isinstance(value, str) or not _FACT.match(value):
        raise RulePackError(src, "must be a lower-case name (letters, digits, _)", rule=rid, field=key)
    return value


def _rule_id(raw: Any, index: int, src: str) -> str:
    """The rule's id, once the rule is a mapping with a well-formed id and only known keys."""
    if not isinstance(raw, dict):
        raise RulePackError(src, "each rule must be a mapping", rule=f"#{index + 1}")
    rid = raw.get("id")
    if not isinstance(rid, str) or not _ID.match(rid):
        label = rid if isinstance(rid, str) and rid else f"#{index + 1}"
        raise RulePackError(src, "id must look like ABC-XYZ-1 (upper case, dashes)", rule=label, field="id")
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise RulePackError(src, f"unknown key(s) {sorted(unknown)}", rule=rid, field=sorted(unknown)[0])
    return rid


def _severity(raw: dict[str, Any], src: str, rid: str) -> Severity:
    try:
        return Severity(_str(raw, "severity", src, rid))
    except ValueError:
        raise RulePackError(
            src, "severity must be info, yellow, orange or red", rule=rid, field="severity"
        ) from None


def _leg(raw: dict[str, Any], src: str, rid: str) -> RuleLeg:
    try:
        return RuleLeg(_str(raw, "leg", src, rid))
    except ValueError:
        raise RulePackError(src, "leg must be agent, debtor or any", rule=rid, field="leg") from None


def _flags(raw: dict[str, Any], src: str, rid: str) -> dict[str, bool]:
    flags = {}
    for flag in ("negation", "reported"):
        value = raw.get(flag, False)
        if not isinstance(value, bool):
            raise RulePackError(src, "must be true or false", rule=rid, field=flag)
        flags[flag] = value
    return flags


def _examples(raw: dict[str, Any], src: str, rid: str) -> tuple[list[str], list[str]]:
    """The rule's positive and negative examples (at least one of each)."""
    examples = raw.get("examples")
    if not isinstance(examples, dict) or set(examples) - {"positive", "negative"}:
        raise RulePackError(src, "examples must be a mapping with positive and negative lists",
                            rule=rid, field="examples")  # fmt: skip
    positive = _str_list(examples.get("positive"), src, rid, "examples.positive")
    negative = _str_list(examples.get("negative"), src, rid, "examples.negative")
    if not positive or not negative:
        raise RulePackError(src, "at least one positive and one negative example are required",
                            rule=rid, field="examples")  # fmt: skip
    return positive, negative


def _model_name(raw: dict[str, Any], kind: str, leg: RuleLeg, src: str, rid: str) -> str | None:
    """The classifier a model rule uses (``None`` for other kinds), with the kind/leg checks."""
    model = None
    if kind == "model":
        model = _str(raw, "model", src, rid)
        if "patterns" in raw:
            raise RulePackError(src, "model rules take no patterns", rule=rid, field="patterns")
    elif "model" in raw:
        raise RulePackError(src, "only model rules name a model", rule=rid, field="model")
    if kind == "must_say" and leg is RuleLeg.DEBTOR:
        raise RulePackError(src, "must_say rules apply to the agent leg", rule=rid, field="leg")
    if kind == "verify_first" and leg is not RuleLeg.AGENT:
        raise RulePackError(src, "verify_first rules apply to the agent leg", rule=rid, field="leg")
    return model


def _number(raw: dict[str, Any], key: str, src: str, rid: str, allowed: bool, required: bool) -> float | None:
    if key not in raw:
        if required:
            raise RulePackError(src, "required", rule=rid, field=key)
        return None
    if not allowed:
        raise RulePackError(src, "not valid for this kind of rule", rule=rid, field=key)
    value = raw[key]
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value < math.inf:
        raise RulePackError(src, "must be a positive finite number", rule=rid, field=key)
    return float(value)


def _compile(
    raw: dict[str, Any],
    kind: str,
    lang: str,
    lists: dict[str, TermList],
    allow: list[str],
    src: str,
    rid: str,
) -> CompiledPatterns:
    if kind == "model":
        if "verified" in raw:
            raise RulePackError(src, _ONLY_VERIFY_FIRST, rule=rid, field="verified")
        return CompiledPatterns(None, None, ())
    patterns = raw.get("patterns")
    if not isinstance(patterns, list) or not patterns:
        raise RulePackError(src, "must be a non-empty list", rule=rid, field="patterns")
    try:
        main = compile_patterns(patterns, lang, lists)
    except PatternError as exc:
        raise RulePackError(src, str(exc), rule=rid, field="patterns") from None
    unless = _extra(raw, "unless", lang, lists, src, rid)
    verified = _extra(raw, "verified", lang, lists, src, rid)
    if (kind == "verify_first") != (verified is not None):
        problem = "required" if kind == "verify_first" else _ONLY_VERIFY_FIRST
        raise RulePackError(src, problem, rule=rid, field="verified")
    del allow
    regex = TimedPattern(main, rid)
    regex.check_speed(lang, src, "patterns")
    return CompiledPatterns(regex, unless, tuple(main.word_groups), verified)


def _extra(
    raw: dict[str, Any], key: str, lang: str, lists: dict[str, TermList], src: str, rid: str
) -> TimedPattern | None:
    """A rule's second list of patterns (``unless``, ``verified``) compiled, or ``None`` if absent."""
    if key not in raw:
        return None
    if not isinstance(raw[key], list) or not raw[key]:
        raise RulePackError(src, "must be a non-empty list", rule=rid, field=key)
    try:
        pattern = TimedPattern(compile_patterns(raw[key], lang, lists), rid)
    except PatternError as exc:
        raise RulePackError(src, str(exc), rule=rid, field=key) from None
    pattern.check_speed(lang, src, key)
    return pattern
