"""The request values of :mod:`web.params` read on their own: a row id as the key of a JSON object
(a review's verdicts per alert id) is taken only in its canonical decimal form."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from web.params import MAX_DB_INT, RowIdKey

KEYS = TypeAdapter(dict[RowIdKey, str])


@pytest.mark.parametrize("key", ["1", "42", "100", str(MAX_DB_INT)])
def test_a_canonical_id_key_is_read_as_its_number(key: str) -> None:
    assert KEYS.validate_python({key: "v"}) == {int(key): "v"}
    assert KEYS.validate_json(f'{{"{key}": "v"}}') == {int(key): "v"}


# a lax integer reading (pydantic's, or int()) took the first eight as alert 1 (or 10, for "1_0")
NOT_CANONICAL = ["1.0", " 1", "1 ", "+1", "01", "1_0", "١", "１", "1e0", "0x1", "1\n", "", "0", "-1"]


@pytest.mark.parametrize("key", NOT_CANONICAL)
def test_an_id_key_not_in_plain_decimal_digits_is_refused_by_name(key: str) -> None:
    with pytest.raises(ValidationError) as refused:
        KEYS.validate_python({key: "v"})
    [problem] = refused.value.errors()
    assert problem["loc"] == (key, "[key]")
    assert f"key {key!r} is not an id: write it in plain decimal digits" in problem["msg"]


def test_an_id_key_beyond_the_database_integer_is_refused() -> None:
    with pytest.raises(ValidationError, match="less than or equal to 9223372036854775807"):
        KEYS.validate_python({str(MAX_DB_INT + 1): "v"})


def test_a_long_bad_key_is_named_by_its_start() -> None:
    with pytest.raises(ValidationError) as refused:
        KEYS.validate_python({"1" * 30 + "." + "0" * 100: "v"})
    msg = refused.value.errors()[0]["msg"]
    assert f"key '{'1' * 30 + '.' + '0' * 9}...' is not an id" in msg and "0" * 10 not in msg
