"""The interface language (``en`` or ``zh``) of a browser, kept on the server side.

The choice is the ``am_lang`` cookie (set by the language switch of every page and by
``/login?lang=``; it is not a session cookie, so the sign-in page stays in that language after
logging out), else the one of English / Chinese the request's ``Accept-Language`` weights highest
(RFC 9110: ``q=0`` is "not acceptable"; an entry with an invalid weight is ignored), else English.
"""

from __future__ import annotations

import re

from starlette.requests import HTTPConnection
from starlette.responses import Response

LANG_COOKIE = "am_lang"
UI_LANGUAGES = ("en", "zh")
#: a year: the choice outlives sessions
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
#: RFC 9110 12.4.2: a weight is 0 to 1 with at most three decimals (``1.000`` at most)
_QVALUE = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")
#: RFC 4647 2.1: a language range (``en``, ``zh-Hant-TW``) or ``*``
_RANGE = re.compile(r"\*|[a-z]{1,8}(?:-[a-z0-9]{1,8})*")


def _entry(part: str) -> tuple[str, float] | None:
    """``(range, weight)`` of one ``Accept-Language`` entry (``zh-CN;q=0.8``), lowercase; ``None``
    for one that is not valid (a weight outside 0..1, with more than 3 decimals or not a number
    such as ``q=abc`` or ``q=nan``, another parameter, a malformed range): it is ignored."""
    tag, *params = (p.strip() for p in part.split(";"))
    tag = tag.lower()
    if not _RANGE.fullmatch(tag) or len(params) > 1:
        return None
    if not params:
        return tag, 1.0
    name, eq, value = params[0].partition("=")
    if name.strip().lower() != "q" or not eq or not _QVALUE.fullmatch(value.strip()):
        return None
    return tag, float(value)


def accept_language(header: str | None) -> str | None:
    """``zh`` or ``en``: the one the ``Accept-Language`` header weights highest (the first listed
    of equal weights; ``*`` stands for any not named), ``None`` if neither is acceptable (not named,
    or only with ``q=0``, which means "not acceptable"). Invalid entries are ignored."""
    weights: dict[str, tuple[float, int]] = {}  # language: (weight, position of its entry)
    wildcard: tuple[float, int] | None = None
    for position, part in enumerate((header or "").split(",")):
        entry = _entry(part)
        if entry is None:
            continue
        tag, q = entry
        if tag == "*":
            wildcard = wildcard or (q, position)
            continue
        lang = tag.split("-")[0]  # zh-CN, zh-Hant-TW: Chinese; zha (another language) is not
        if lang in UI_LANGUAGES and q > weights.get(lang, (-1.0, 0))[0]:
            weights[lang] = (q, position)
    if wildcard is not None:
        for lang in UI_LANGUAGES:
            weights.setdefault(lang, wildcard)
    ranked = sorted((-q, position, lang) for lang, (q, position) in weights.items() if q > 0)
    return ranked[0][2] if ranked else None


def ui_lang(conn: HTTPConnection, chosen: str | None = None) -> str:
    """The interface language: ``chosen`` (e.g. ``?lang=``) if valid, the cookie, the header, English."""
    for candidate in (chosen, conn.cookies.get(LANG_COOKIE)):
        if candidate in UI_LANGUAGES:
            return str(candidate)
    return accept_language(conn.headers.get("accept-language")) or "en"


def remember_lang(response: Response, lang: str, *, secure: bool = False) -> None:
    """Store the choice in the ``am_lang`` cookie (readable by the pages' script, which sets it too)."""
    response.set_cookie(LANG_COOKIE, lang, max_age=LANG_COOKIE_MAX_AGE, samesite="lax", secure=secure)
