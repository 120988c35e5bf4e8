"""Reading the plain fields of a rule pack (strings, string lists, the named term lists), each
refused with a :class:`~agent_monitor.errors.RulePackError` naming the file, rule and field."""

from __future__ import annotations

import re
from typing import Any

from agent_monitor.errors import RulePackError
from qa_rules.patterns import TermList


def str_field(d: dict[str, Any], key: str, src: str, rule: str | None, required: bool = True) -> str:
    value = d.get(key)
    if value is None and not required:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool) and key == "version":
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise RulePackError(src, "required, must be a non-empty string", rule=rule, field=key)
    return value.strip()


def str_list(value: Any, src: str, rule: str | None, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise RulePackError(src, "must be a list of non-empty strings", rule=rule, field=field)
    return [v.strip() for v in value]


def term_lists(raw: Any, src: str) -> dict[str, TermList]:
    if not isinstance(raw, dict):
        raise RulePackError(src, "lists must be a mapping of name to terms", field="lists")
    out: dict[str, TermList] = {}
    for name, spec in raw.items():
        field = f"lists.{name}"
        if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise RulePackError(src, f"list name {name!r} must be lower-case [a-z0-9_]", field=field)
        options: dict[str, Any] = {}
        if isinstance(spec, dict):
            extra = set(spec) - {"terms", "homophones", "word"}
            if extra:
                raise RulePackError(src, f"unknown key(s) {sorted(extra)}", field=field)
            options = spec
            spec = spec.get("terms")
        terms = str_list(spec, src, None, field)
        if not terms:
            raise RulePackError(src, "a list needs at least one term", field=field)
        homophones = options.get("homophones", "off")
        if homophones not in ("off", "any", "addressed"):
            raise RulePackError(src, "homophones must be off, any or addressed", field=field + ".homophones")
        word = options.get("word", False)
        if not isinstance(word, bool):
            raise RulePackError(src, "word must be true or false", field=field + ".word")
        out[name] = TermList(name, tuple(terms), homophones, word)
    return out
