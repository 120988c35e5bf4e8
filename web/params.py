"""Numbers and names the web API reads from requests, bounded where the database bounds them.

A row id or an offset beyond ``2**63 - 1`` cannot be bound to an SQLite or PostgreSQL integer;
taken as it came, it failed deep in the driver (an ``OverflowError``, a 500). :data:`RowId` and
:data:`Offset` refuse it with a 422 where the request is read.
:data:`RowIdKey` is a row id as the key of a JSON object (a review's verdicts per alert id): only
its canonical decimal form, so that ``"1.0"``, ``" 1"``, ``"+1"``, ``"01"`` or ``"1_0"`` (which a
lax integer reading took as alert 1, or 10) or ``"١"`` are refused with a 422 naming the key;
:data:`RowId` (a row id in a path) is read the same way.
:func:`usable_name` refuses, in an agent id or a team name, the characters that the ingest refuses
in every identifier (control, bidirectional, invisible), so that no two names look alike.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, BeforeValidator, Field

from agent_monitor.model.identifiers import identifier_problem

#: the largest integer SQLite and PostgreSQL (bigint) store
MAX_DB_INT = 2**63 - 1

Offset = Annotated[int, Query(ge=0, le=MAX_DB_INT)]

#: a row id written the one way ``str(id)`` writes it: ASCII digits, no sign, no leading zero,
#: no space, point, exponent or '_' (at most 19 digits; the range is checked after)
_CANONICAL_ID = re.compile(r"[1-9][0-9]{0,18}")


def _canonical(what: str) -> BeforeValidator:
    def check(value: object) -> object:
        if isinstance(value, str) and _CANONICAL_ID.fullmatch(value) is None:
            shown = value if len(value) <= 40 else value[:40] + "..."
            hint = "write it in plain decimal digits, as in '1' or '42'"
            raise ValueError(f"{what}{shown!r} is not an id: {hint}")
        return value

    return BeforeValidator(check)


RowIdKey = Annotated[int, _canonical("key "), Field(ge=1, le=MAX_DB_INT)]
#: a row id in a path (``/api/alerts/{alert_id}/...``): canonical as :data:`RowIdKey` (``/api/alerts/
#: 1_0/acknowledge`` acknowledged alert 10, ``01`` or ``1.0`` alert 1)
RowId = Annotated[int, _canonical(""), Path(ge=1, le=MAX_DB_INT)]


def usable_name(max_chars: int, *, path_safe: bool = False) -> AfterValidator:
    """A name the way identifiers are: not empty, at most ``max_chars``, no control, bidirectional or
    invisible character; ``path_safe`` also refuses ``/`` (the name is a path segment of its own
    routes, as a team's is)."""

    def check(value: str) -> str:
        problem = identifier_problem(value, max_chars)
        if problem is None and path_safe and "/" in value:
            problem = "must not contain '/'"
        if problem is not None:
            raise ValueError(problem)
        return value

    return AfterValidator(check)
