"""``loads_strict``: JSON from outside, with non-finite numbers and lone surrogates refused."""

from __future__ import annotations

import json

import pytest

from agent_monitor.strict_json import StrictJsonError, loads_strict


def test_plain_json_is_parsed_as_json_loads_does() -> None:
    text = (
        '{"event": "media", "n": [1, 2.5, -3e2, true, null], '
        '"s": "caf\\u00e9 \\ud83d\\ude00", "k": {"a": "b"}}'
    )
    assert loads_strict(text) == json.loads(text)
    assert loads_strict(text.encode("utf-8")) == json.loads(text)
    assert loads_strict('"\\u00e9"') == "é"


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}', "1e999", '{"x": [1, -1e400]}'])
def test_non_finite_numbers_are_refused(text: str) -> None:
    with pytest.raises(StrictJsonError):
        loads_strict(text)


def test_an_integer_longer_than_pythons_limit_is_refused_with_a_reason() -> None:
    """It was a bare ``ValueError`` from ``int()``, read as malformed JSON: the web routes answered
    400 "There was an error parsing the body" instead of 422 with the reason."""
    assert loads_strict("-" + "9" * 4300) == -int("9" * 4300)
    for text in ("1" * 4301, '{"scorecard": {"a": -' + "7" * 5000 + "}}"):
        with pytest.raises(StrictJsonError, match="has more than 4300 digits"):
            loads_strict(text)


@pytest.mark.parametrize(
    "text",
    ['"\\ud800"', '{"a": ["ok", "x\\udfffy"]}', '{"\\udc00": 1}', '["\\ud83d"]', '{"a": "\ud800"}'],
)
def test_lone_surrogates_are_refused_escaped_or_raw(text: str) -> None:
    with pytest.raises(StrictJsonError, match="surrogate"):
        loads_strict(text)


def test_malformed_text_bom_and_bad_utf8() -> None:
    with pytest.raises(json.JSONDecodeError):
        loads_strict('{"a": ')
    with pytest.raises(json.JSONDecodeError, match="BOM"):
        loads_strict('\ufeff{"a": 1}')
    with pytest.raises(StrictJsonError, match="not UTF-8"):
        loads_strict(b'{"a": "\xff"}')


@pytest.mark.parametrize(
    ("text", "key"),
    [('{"call_id": "a1", "call_id": "a2"}', "call_id"), ('[{"x": {"k": 1, "j": 2, "k": 3}}]', "k")],
)
def test_a_key_given_twice_is_refused(text: str, key: str) -> None:
    """Which call would ``{"call_id": "a1", "call_id": "a2"}`` be? Python's parser keeps the last."""
    with pytest.raises(StrictJsonError, match=f"key '{key}' appears twice"):
        loads_strict(text)
    assert loads_strict('{"a": {"k": 1}, "b": {"k": 2}}') == {"a": {"k": 1}, "b": {"k": 2}}
