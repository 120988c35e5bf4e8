"""JSON as this product accepts it from outside: no numbers JSON cannot hold, no broken Unicode,
no key given twice.

Python's parser takes ``1e999`` (infinity), ``NaN``, ``Infinity`` and escaped lone surrogates
(``"\\ud800"``); such values later fail deep inside (a response that cannot be encoded, a
database that refuses the string) instead of being refused where they came in.
An object with one key twice (``{"call_id": "a", "call_id": "b"}``) means two things at once;
Python keeps the last. :func:`loads_strict` refuses all of them with one clear line.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")


class StrictJsonError(ValueError):
    """The text is not JSON, or holds a value this product does not accept (the message says which)."""


def _reject_constant(name: str) -> Any:
    raise StrictJsonError(f"{name} is not a JSON number")


#: Python's own limit on the digits of an integer read from text (``sys.get_int_max_str_digits``)
MAX_INT_DIGITS = 4300


def _integer(text: str) -> int:
    if len(text) - text.startswith("-") > MAX_INT_DIGITS:  # int() raised a bare ValueError
        raise StrictJsonError(f"number {text[:40]}... has more than {MAX_INT_DIGITS} digits")
    return int(text)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise StrictJsonError(f"number {text[:40]} is out of range")
    return value


def _check_strings(value: Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise StrictJsonError("a string holds a lone UTF-16 surrogate (not Unicode text)")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise StrictJsonError(f"key {key[:40]!r} appears twice in one object")
            seen.add(key)
    return obj


#: one decoder for every call (``json.loads`` with hooks would build a new one each time)
_DECODER = json.JSONDecoder(
    parse_constant=_reject_constant,
    parse_float=_finite,
    parse_int=_integer,
    object_pairs_hook=_unique_keys,
)


def loads_strict(text: str | bytes) -> Any:
    """``json.loads`` that refuses non-finite numbers, integers of more than
    :data:`MAX_INT_DIGITS` digits, lone surrogates and repeated keys
    (:class:`StrictJsonError`; malformed JSON raises :class:`json.JSONDecodeError`, also a ``ValueError``)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise StrictJsonError("the text is not UTF-8") from None
    if text.startswith("\ufeff"):  # as json.loads says it
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    data = _DECODER.decode(text)
    # a parsed string can hold a surrogate only from a \u escape or from the text itself: most
    # texts (every Twilio media frame) need no walk through what was parsed
    if "\\u" in text or _SURROGATE.search(text) is not None:
        _check_strings(data)
    return data
