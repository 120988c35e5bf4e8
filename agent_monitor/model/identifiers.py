"""Limits of the identifiers a call carries (call, agent, debtor ids, phone number, time zone).

One definition for the whole product: the ingest protocols validate against it at the edge (a
clear protocol error), :class:`~agent_monitor.model.session.CallInfo` checks it again, and the
storage columns are declared with these lengths, so SQLite and PostgreSQL accept the same ids.

An identifier is 1 to ``MAX_ID_CHARS`` characters, none of them a control character (C0, DEL,
C1), a bidirectional override or isolate, a zero-width character or a lone surrogate: such
characters make one id look like another on a screen or in a log, and some databases refuse them.
Nor may it begin or end with white space (the ingest protocols strip the ids a call carries, so an
agent user's id ``" A-7"`` would never match the calls of agent ``A-7``), nor be ``.`` or ``..``
(:data:`DOT_SEGMENTS`). A debtor's or a browser's time zone is the zone of a place
(:func:`time_zone`).
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

#: call ids, agent ids, debtor ids, time zone names (characters; the storage columns hold this many)
MAX_ID_CHARS = 64
#: a debtor's phone number (characters)
MAX_PHONE_CHARS = 32

#: names a browser takes for a step in an address (``/api/admin/users/..`` is fetched as
#: ``/api/admin/``, even written ``%2E%2E``): a user, team, agent, pack or call so named could not be
#: reached from its page
DOT_SEGMENTS = frozenset({".", ".."})
DOT_SEGMENT_PROBLEM = "must not be '.' or '..' (a browser reads it as a step in the address)"

#: C0 and C1 controls, DEL, bidi marks/embeddings/overrides/isolates, zero-width characters, BOM,
#: line/paragraph separators and lone surrogates
_FORBIDDEN = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]"
)


def identifier_problem(value: str, max_chars: int = MAX_ID_CHARS) -> str | None:
    """Why ``value`` is not a usable identifier (``None`` when it is)."""
    if not value.strip():
        return "must not be empty"
    if value != value.strip():  # the ingest strips the ids a call carries: " A-7" matched no call
        return "must not begin or end with a space"
    if len(value) > max_chars:
        return f"must be at most {max_chars} characters (got {len(value)})"
    if value in DOT_SEGMENTS:
        return DOT_SEGMENT_PROBLEM
    bad = _FORBIDDEN.search(value)
    if bad is not None:
        return f"must not contain control, bidirectional or invisible characters (U+{ord(bad.group()):04X})"
    return None


def has_forbidden_characters(text: str) -> bool:
    """Whether ``text`` holds a character no identifier may hold (see the module documentation)."""
    return _FORBIDDEN.search(text) is not None


#: names in the time zone database that are not a place: ``localtime`` (whatever zone the server
#: runs in), ``Factory`` (a placeholder) and ``posixrules`` (a template of rules)
NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})


def time_zone(name: str) -> ZoneInfo:
    """The IANA zone of a place named ``name``; :class:`ValueError` ("unknown time zone") for a
    name the database lacks, one of :data:`NOT_PLACES`, or a ``posix/`` or ``right/`` copy of a zone
    (one place, one name: the rules and reports group by the name)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if name in NOT_PLACES or name.startswith(("posix/", "right/")):
        raise ValueError(f"unknown time zone {name!r}: not the zone of a place")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {name!r}") from None


#: the most zones one call's ``debtor_tz`` may list
MAX_DEBTOR_ZONES = 4


def debtor_zones(value: str) -> tuple[str, ...]:
    """The zones of a call's ``debtor_tz``: one zone, or several separated by commas where the
    debtor's place is not certain (an address in one zone, a phone number's area code in another:
    the calling hours must hold in every one). Each part must be a place's zone (:func:`time_zone`),
    none twice, at most :data:`MAX_DEBTOR_ZONES`; :class:`ValueError` otherwise."""
    zones = tuple(part.strip() for part in value.split(","))
    if not all(zones):
        raise ValueError(f"time zones {value!r}: an empty name (write them as 'Zone/One,Zone/Two')")
    if len(zones) > MAX_DEBTOR_ZONES:
        raise ValueError(f"time zones {value!r}: at most {MAX_DEBTOR_ZONES}, not {len(zones)}")
    if len(set(zones)) < len(zones):
        raise ValueError(f"time zones {value!r}: a zone named twice")
    for zone in zones:
        time_zone(zone)
    return zones


#: the fewest digits a phone number has for calls to it to be matched (a local number without its
#: area code has 7; "anonymous", "unknown" or an extension have fewer)
MIN_PHONE_DIGITS = 7


def phone_key(phone: str | None, country: str | None = None) -> str | None:
    """A phone number as the calls to it are matched: its digits alone (spaces, dashes, brackets,
    dots and a leading ``+`` do not count; full-width digits are digits), a leading international
    prefix ``00`` taken for ``+``; ``None`` for one with fewer than :data:`MIN_PHONE_DIGITS` digits
    (a withheld number, a name) or no number at all. ``+1 (555) 123-4567`` and ``0015551234567``
    are one number.

    ``country``, a country calling code (``1``, ``86``): a number written without ``+`` or ``00``
    is a national number there and is matched as the international one (:func:`national_to_international`),
    so ``555-123-4567`` in ``1`` is ``+1 555 123 4567``; without ``country`` it is matched as written."""
    if not phone:
        return None
    digits = "".join(str(unicodedata.decimal(c)) for c in phone if c.isdecimal())
    international = phone.lstrip().startswith("+")
    if digits.startswith("00") and not international:
        digits, international = digits[2:], True
    if country and not international:
        digits = national_to_international(digits, country)
    return digits if len(digits) >= MIN_PHONE_DIGITS else None


def national_to_international(digits: str, country: str) -> str:
    """The digits of a number written nationally in ``country`` as the international number's:
    in ``1`` (the North American plan) ten digits get the ``1`` in front and eleven that start with
    ``1`` already have it; elsewhere a leading trunk prefix ``0`` gives way to the country code
    (``010 1234 5678`` in ``86``: ``86 10 1234 5678``), and in ``86`` an 11-digit mobile number
    (``138 0013 8000``) gets ``86`` in front. Anything else (a local number without its area code)
    stays as written."""
    if country == "1":
        return "1" + digits if len(digits) == 10 else digits
    if digits.startswith("0") and not digits.startswith("00"):
        return country + digits[1:]
    if country == "86" and len(digits) == 11 and digits.startswith("1"):
        return country + digits
    return digits
