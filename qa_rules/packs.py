"""Rule packs: YAML data files, validated on load into :class:`Rule` objects.

A pack file::

    pack: en-abuse            # name
    version: 1.0.0            # the pack's own version (semantic versioning)
    description: ...
    lists:                    # named term lists, referenced in patterns as @name
      insult: [idiot, moron]
      slur: {terms: [...], homophones: addressed, word: true}   # Chinese options
    allow: [kill time]        # safe phrases: a hit inside one is dropped
    rules:
      - id: EN-INSULT-1
        title: Name-calling
        category: insult      # see CATEGORIES
        severity: orange      # info | yellow | orange | red
        languages: [en]
        leg: agent            # agent | debtor | any
        kind: match           # match (default) | must_say | model | verify_first
        patterns: [...]       # see qa_rules.patterns
        unless: [...]         # optional: no hit in an utterance that matches one of these
        negation: true        # optional: drop hits negated in their clause
        reported: true        # optional: drop hits in reported speech
        citation: FDCPA 806(2) ...
        compliant: the wording the agent should use instead   # required for agent/any legs; on a
                              #   debtor-leg rule: the hit is also a cue on the agent's panel
        examples: {positive: [...], negative: [...]}
        fact: wrong_party     # match only: a confirmed hit records this fact of the call
        after: wrong_party    # match and verify_first: a hit only once a rule of this pack
                              #   recorded the fact earlier in the call (either leg)
        verified: [...]       # verify_first only, required: the wording that verifies the person;
                              #   the patterns are a hit only before it (in the text, or in an
                              #   earlier final transcript of the call: qa_rules.streaming)
        refused: refused_verification   # verify_first only: a fact of this pack that, said after
                              #   the verifying wording, undoes it (the person would not answer)
        within_s: 30          # must_say only (default: settings.rules.must_say_window_s)
        missed: Recording notice not given in the first {window} s   # must_say only, required:
                              #   the title of the hit when the window passes unmet
        label: Recording notice   # must_say only, required: the agent's checklist line (a noun,
                              #   at most 40 characters; shown as said / due by m:ss / missed)
        reason: why the rule exists (shown as "Why"; default: the category's reason)
        model: abuse-zh       # model only: models/abuse/<model>.json
        threshold: 0.9        # model only: probability at or above which the rule fires
                              #   (default: the threshold stored in the model file by training)

Every problem raises :class:`~agent_monitor.errors.RulePackError` naming file, rule and field; a
mapping key given twice (two ``rules:``, a rule's ``patterns:`` twice) is refused with its line
(:mod:`qa_rules.pack_yaml`). The modules: :mod:`qa_rules.pack_types` (what a loaded pack is),
:mod:`qa_rules.pack_yaml` (the file's YAML), :mod:`qa_rules.pack_fields` and
:mod:`qa_rules.rule_fields` (the fields of a pack and of a rule), :mod:`qa_rules.examples` (running
each rule's examples); this one finds the files and loads a pack.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from agent_monitor.errors import RulePackError
from qa_rules.pack_fields import str_field as _str
from qa_rules.pack_fields import str_list as _str_list
from qa_rules.pack_fields import term_lists as _lists
from qa_rules.pack_types import (
    ABUSE_CATEGORIES,
    CATEGORIES,
    KINDS,
    LANGUAGES,
    CompiledPatterns,
    Rule,
    RulePack,
)
from qa_rules.pack_yaml import read_pack_yaml
from qa_rules.patterns import compile_literals
from qa_rules.rule_fields import LABEL_MAX, read_rule

__all__ = [
    "ABUSE_CATEGORIES",
    "CATEGORIES",
    "KINDS",
    "LABEL_MAX",
    "LANGUAGES",
    "CompiledPatterns",
    "Rule",
    "RulePack",
    "allow_regex",
    "load_pack",
    "pack_files",
]

_PACK_KEYS = {"pack", "version", "description", "language", "lists", "allow", "rules"}
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


def pack_files(paths: Iterable[Path]) -> list[Path]:
    """The ``*.yaml``/``*.yml`` files named by ``paths`` (folders are searched recursively)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml")))
        elif path.is_file():
            files.append(path)
        else:
            raise RulePackError(str(path), "no such rule pack file or folder")
    if not files:
        raise RulePackError(", ".join(str(p) for p in paths), "no rule pack files (*.yaml) found")
    return files


def load_pack(path: Path) -> RulePack:
    """Read and validate one pack file."""
    src = str(path)
    data = read_pack_yaml(path)
    if not isinstance(data, dict):
        raise RulePackError(src, "a rule pack must be a YAML mapping with pack, version and rules")
    unknown = set(data) - _PACK_KEYS
    if unknown:
        raise RulePackError(src, f"unknown key(s) {sorted(unknown)}", field=sorted(unknown)[0])
    name = _str(data, "pack", src, None)
    version = _str(data, "version", src, None)
    if not _VERSION.match(version):
        raise RulePackError(src, f"version {version!r} is not MAJOR.MINOR.PATCH", field="version")
    lists = _lists(data.get("lists") or {}, src)
    allow = _str_list(data.get("allow") or [], src, None, "allow")
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise RulePackError(src, "rules must be a non-empty list", field="rules")
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_rules):
        rule = read_rule(raw, index, src, name, lists, allow)
        if rule.id in seen:
            raise RulePackError(src, "duplicate rule id", rule=rule.id, field="id")
        seen.add(rule.id)
        rules.append(rule)
    facts = {r.fact for r in rules if r.fact}
    for rule in rules:
        for field, fact in (("after", rule.after), ("refused", rule.refused)):
            if fact and fact not in facts:
                raise RulePackError(
                    src, f"no rule of this pack records the fact {fact!r}", rule=rule.id, field=field
                )
    return RulePack(name, version, src, tuple(rules), lists, tuple(allow))


def allow_regex(packs: Iterable[RulePack], lang: str) -> re.Pattern[str] | None:
    """One regex matching every allow-listed phrase of ``packs`` for ``lang``."""
    phrases = [a for p in packs for a in p.allow if _phrase_lang(a) in (lang, "any")]
    source = compile_literals(phrases, lang)
    return re.compile(source) if source else None


def _phrase_lang(phrase: str) -> str:
    if any("\u3400" <= c <= "\u9fff" for c in phrase):
        return "zh"
    return "en" if any(c.isalpha() for c in phrase) else "any"
