"""The interface language (``en`` or ``zh``) of a browser, kept on the server side.

The choice is the ``am_lang`` cookie (set by the language switch of every page and by
``/login?lang=``; it is not a session cookie, so the sign-in page stays in that language after
logging out), else the first of English / Chinese in the request's ``Accept-Language``, else
English.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.responses import Response

LANG_COOKIE = "am_lang"
UI_LANGUAGES = ("en", "zh")
#: a year: the choice outlives sessions
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600


def accept_language(header: str | None) -> str | None:
    """``zh`` or ``en``: the first of them in an ``Accept-Language`` header (``None`` if neither)."""
    for part in (header or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return None


def ui_lang(conn: HTTPConnection, chosen: str | None = None) -> str:
    """The interface language: ``chosen`` (e.g. ``?lang=``) if valid, the cookie, the header, English."""
    for candidate in (chosen, conn.cookies.get(LANG_COOKIE)):
        if candidate in UI_LANGUAGES:
            return str(candidate)
    return accept_language(conn.headers.get("accept-language")) or "en"


def remember_lang(response: Response, lang: str, *, secure: bool = False) -> None:
    """Store the choice in the ``am_lang`` cookie (readable by the pages' script, which sets it too)."""
    response.set_cookie(LANG_COOKIE, lang, max_age=LANG_COOKIE_MAX_AGE, samesite="lax", secure=secure)
