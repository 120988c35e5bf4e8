"""QA scorecard forms and the score of a filled scorecard.

A form is a list of items; each item is scored ``0`` (failed) up to its ``max`` (met), or marked
``"na"`` (not applicable, where the item allows it), or left ``None`` (not scored yet). A failed
item may require a comment. The score is the weighted share of the points reached over the items
that were scored (N/A and not-scored items count for nothing), in percent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agent_monitor.errors import InvalidRecordError
from agent_monitor.model.identifiers import identifier_problem

#: the value of an item marked not applicable
NOT_APPLICABLE = "na"
MAX_ITEMS = 50
#: the longest form title (the ``qa_forms.title`` column holds as many characters)
MAX_TITLE_CHARS = 200

ItemValue = int | str | None


@dataclass(frozen=True)
class FormItem:
    key: str
    en: str
    zh: str
    weight: float = 1.0
    max: int = 2
    na_allowed: bool = False
    comment_on_fail: bool = False

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> FormItem:
        """An item from its JSON/YAML form; :class:`InvalidRecordError` names what is wrong."""
        if not isinstance(raw, Mapping):
            raise InvalidRecordError(f"a form item must be a mapping, not {type(raw).__name__}")
        key = raw.get("key")
        if not isinstance(key, str) or not key.replace("_", "").replace("-", "").isalnum() or len(key) > 64:
            raise InvalidRecordError(f"form item key {key!r}: letters, digits, '-' or '_', at most 64")
        unknown = sorted(set(raw) - {f for f in cls.__dataclass_fields__})
        if unknown:
            raise InvalidRecordError(f"form item {key!r}: unknown fields {', '.join(unknown)}")
        en = raw.get("en")
        if not isinstance(en, str) or not en.strip():
            raise InvalidRecordError(f"form item {key!r}: 'en' (the English label) is required")
        zh = raw.get("zh", en)
        if not isinstance(zh, str):
            raise InvalidRecordError(f"form item {key!r}: 'zh' (the Chinese label) must be text")
        weight, top = raw.get("weight", 1.0), raw.get("max", 2)
        if not isinstance(weight, int | float) or isinstance(weight, bool) or not 0 < weight <= 100:
            raise InvalidRecordError(f"form item {key!r}: weight must be a number in (0, 100]")
        if not isinstance(top, int) or isinstance(top, bool) or not 1 <= top <= 10:
            raise InvalidRecordError(f"form item {key!r}: max must be a whole number from 1 to 10")
        flags = {f: raw.get(f, False) for f in ("na_allowed", "comment_on_fail")}
        for name, value in flags.items():
            if not isinstance(value, bool):
                raise InvalidRecordError(f"form item {key!r}: {name} must be true or false")
        return cls(key, en.strip(), zh.strip() or en.strip(), float(weight), top, **flags)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "en": self.en,
            "zh": self.zh,
            "weight": self.weight,
            "max": self.max,
            "na_allowed": self.na_allowed,
            "comment_on_fail": self.comment_on_fail,
        }


@dataclass(frozen=True)
class ScorecardForm:
    name: str
    title: str
    items: tuple[FormItem, ...]

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> ScorecardForm:
        """A form from ``{"name", "title", "items": [...]}``; :class:`InvalidRecordError` if bad."""
        if not isinstance(raw, Mapping):
            raise InvalidRecordError("a form must be a mapping with name, title and items")
        name, items = raw.get("name"), raw.get("items")
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise InvalidRecordError("a form needs a 'name' (at most 100 characters)")
        problem = identifier_problem(name, 100)
        if problem is not None:
            raise InvalidRecordError(f"form name {name[:100]!r}: {problem}")
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
            raise InvalidRecordError(f"form {name!r}: 'items' must be a list of 1 to {MAX_ITEMS} items")
        parsed = tuple(FormItem.parse(i) for i in items)
        keys = [i.key for i in parsed]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise InvalidRecordError(f"form {name!r}: item keys used twice: {', '.join(twice)}")
        return cls(name.strip(), _title(name, raw.get("title")), parsed)

    def unknown_keys(self, scorecard: Mapping[str, Any]) -> list[str]:
        keys = {i.key for i in self.items}
        return sorted(k for k in scorecard if k not in keys)


def _title(name: str, title: object) -> str:
    """The title of form ``name``: ``title`` without surrounding spaces, the name when there is
    none; a longer one than :data:`MAX_TITLE_CHARS` is refused (it used to be cut silently)."""
    if title is None:
        return name.strip()
    if not isinstance(title, str):
        raise InvalidRecordError(f"form {name!r}: 'title' must be text")
    title = title.strip()
    if len(title) > MAX_TITLE_CHARS:
        raise InvalidRecordError(
            f"form {name!r}: 'title' has {len(title)} characters, at most {MAX_TITLE_CHARS} are allowed"
        )
    return title or name.strip()


def check_scorecard(
    form: ScorecardForm, scorecard: Mapping[str, ItemValue], comments: Mapping[str, str], *, finishing: bool
) -> float | None:
    """Validate a filled scorecard against ``form`` and return its score in percent (``None``
    when nothing is scored). Finishing refuses items not scored and failed items lacking a
    required comment; a draft may leave them open."""
    unknown = form.unknown_keys(scorecard)
    if unknown:
        raise InvalidRecordError(f"unknown scorecard items: {', '.join(unknown)}")
    reached = possible = 0.0
    unscored, uncommented = [], []
    for item in form.items:
        value = scorecard.get(item.key)
        if value is None:
            unscored.append(item.key)
        elif value == NOT_APPLICABLE:
            if not item.na_allowed:
                raise InvalidRecordError(f"scorecard item {item.key!r} cannot be marked N/A")
        elif isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= item.max:
            reached += item.weight * value / item.max
            possible += item.weight
            if value == 0 and item.comment_on_fail and not comments.get(item.key, "").strip():
                uncommented.append(item.key)
        else:
            raise InvalidRecordError(f"scorecard item {item.key!r}: a score from 0 to {item.max}, or N/A")
    if finishing and unscored:
        raise InvalidRecordError(f"score every item (or mark it N/A) before finishing: {', '.join(unscored)}")
    if finishing and uncommented:
        raise InvalidRecordError(f"a failed item needs a comment: {', '.join(uncommented)}")
    return round(100.0 * reached / possible, 1) if possible else None


#: the form a new database starts with (version 1 of ``default``)
DEFAULT_FORM: dict[str, Any] = {
    "name": "default",
    "title": "Debt-collection call",
    "items": [
        {"key": "identification", "en": "Agent identified self and company", "zh": "坐席表明身份和公司"},
        {"key": "disclosure", "en": "Required disclosures given", "zh": "必要告知已说明", "na_allowed": True},
        {
            "key": "respect",
            "en": "Respectful language, no threats",
            "zh": "用语文明，无威胁",
            "weight": 2.0,
            "comment_on_fail": True,
        },
        {"key": "accuracy", "en": "Accurate debt information", "zh": "债务信息准确", "comment_on_fail": True},
        {
            "key": "resolution",
            "en": "Handled the debtor's concerns",
            "zh": "妥善处理债务人诉求",
            "na_allowed": True,
        },
    ],
}
