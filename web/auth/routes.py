"""Sign-in and sign-out: ``POST /api/auth/login`` (JSON), ``POST /api/auth/logout``,
``GET /api/auth/me``, and the ``/login`` page (``GET`` shows the form, ``POST`` takes it).

A successful sign-in sets the session cookie ``am_session`` (HttpOnly, SameSite=Lax, ``Secure``
when ``web.secure_cookies``) and the CSRF cookie ``am_csrf`` (readable by the pages' scripts,
SameSite=Strict). A username is one name whatever its case: signing in as ``alice`` finds the user
``Alice`` (the session, and the audit, carry ``Alice``). Failed sign-ins are limited per username
(whatever its case) and client address (429 with ``Retry-After``). Every sign-in, failure,
throttling and sign-out is written to the audit log.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import asdict
from datetime import UTC, datetime
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from agent_monitor.accounts.passwords import hash_password, needs_rehash, verify_password
from agent_monitor.accounts.users import end_session, record
from agent_monitor.errors import (
    InvalidRequestError,
    NotSignedInError,
    RequestTooLargeError,
    TooManyAttemptsError,
)
from agent_monitor.model.roles import Role
from agent_monitor.storage import repo
from web.auth.deps import CsrfChecked, CurrentUser, SignedIn, auth_state, session_of
from web.auth.floor_limit import floor_redis
from web.auth.login_page import render, safe_next
from web.auth.tokens import CSRF_COOKIE, LOGIN_CSRF_COOKIE, SESSION_COOKIE
from web.language import UI_LANGUAGES, remember_lang, ui_lang
from web.services import Services, ServicesDep, services_of

router = APIRouter(tags=["auth"])
#: the sign-in form is small; anything bigger is refused before it is read whole
MAX_FORM_BYTES = 16384


class LoginBody(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1024)


class Me(BaseModel):
    username: str
    role: Role
    agent_id: str | None
    team: str | None
    #: send it back as the ``X-CSRF-Token`` header of every POST/PUT/PATCH/DELETE
    csrf_token: str


def _ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _authenticate(request: Request, username: str, password: str) -> tuple[CurrentUser, str]:
    """The user and their password hash when the credentials are right; else
    :class:`TooManyAttemptsError` (429) or :class:`NotSignedInError` (401)."""
    state = auth_state(request)
    services = services_of(request)
    ip = _ip(request)
    # counted now (parallel guesses cannot all pass), per name whatever its case (as the look-up)
    redis = floor_redis(services)  # a floor counts in Redis: every node refuses alike
    attempt = await state.limits.reserve(redis, username, ip)
    if attempt.wait > 0:
        await asyncio.to_thread(_audit_only, services, username, "login_throttled", ip)
        raise TooManyAttemptsError("too many failed sign-ins; try again later", attempt.wait)

    def check() -> tuple[CurrentUser, str] | None:
        with services.db.session() as s:
            row = repo.get_user(s, username)  # whatever the case typed: the audit has the stored name
            ok = verify_password(row.password_hash if row is not None else None, password)
            if row is None or not ok or not row.active:
                reason = "unknown user" if row is None else ("inactive" if ok else "wrong password")
                name = username if row is None else row.username
                record(s, name, "login_failed", "user", name, ip=ip, reason=reason)
                return None
            if needs_rehash(row.password_hash):
                row.password_hash = hash_password(password)
            record(s, row.username, "login", "user", row.username, ip=ip)
            return CurrentUser(row.username, Role(row.role), row.agent_id, row.team), row.password_hash

    result = await asyncio.to_thread(check)
    if result is None:
        raise NotSignedInError("wrong username or password")
    await state.limits.succeeded(redis, username, ip, attempt)
    return result


def _audit_only(services: Services, actor: str, action: str, ip: str) -> None:
    """One audit record of ``actor`` (as stored when it is a user's: a throttled name may be typed in
    another case)."""
    with services.db.session() as s:
        row = repo.get_user(s, actor)
        name = actor if row is None else row.username
        record(s, name, action, "user", name, ip=ip)


def _start_session(request: Request, response: Response, user: CurrentUser, password_hash: str) -> str:
    state = auth_state(request)
    web = state.settings.web
    token = state.signer.issue(user.username, password_hash, web.session_lifetime_s)
    parsed = state.signer.verify(token)
    assert parsed is not None
    csrf = state.signer.csrf_token(parsed.sid)
    max_age = web.session_lifetime_s
    response.set_cookie(
        SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="lax", secure=web.secure_cookies
    )
    response.set_cookie(
        CSRF_COOKIE, csrf, max_age=max_age, httponly=False, samesite="strict", secure=web.secure_cookies
    )
    return csrf


def _end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax")
    response.delete_cookie(CSRF_COOKIE, samesite="strict")


@router.post(
    "/api/auth/login",
    response_model=Me,
    responses={401: {"description": "wrong username or password"}, 429: {"description": "rate limited"}},
)
async def login(request: Request, body: LoginBody, response: Response) -> Me:
    """Sign in with a JSON body; sets the session and CSRF cookies."""
    user, password_hash = await _authenticate(request, body.username, body.password)
    csrf = _start_session(request, response, user, password_hash)
    return Me(**asdict(user), csrf_token=csrf)


def _revoke(services: Services, sid: str, username: str, expires_at: int) -> None:
    """Record the revocation in the database: a restarted server refuses the cookie too."""
    with services.db.session() as s:
        end_session(s, sid, username, datetime.fromtimestamp(expires_at, UTC))


@router.post("/api/auth/logout", status_code=204, response_class=Response)
async def logout(request: Request, user: CsrfChecked, services: ServicesDep) -> Response:
    """End this session (its cookie stops working at once) and clear the cookies."""
    found = await session_of(request)
    if found is not None:
        token = found[1]
        auth_state(request).revoke(token.sid, token.expires_at)
        await asyncio.to_thread(_revoke, services, token.sid, user.username, token.expires_at)
    await asyncio.to_thread(_audit_only, services, user.username, "logout", _ip(request))
    response = Response(status_code=204)
    _end_session(response)
    return response


@router.get("/api/auth/me", response_model=Me)
async def me(request: Request, user: SignedIn) -> Me:
    """The signed-in user and the CSRF token of their session."""
    found = await session_of(request)
    assert found is not None
    return Me(**asdict(user), csrf_token=auth_state(request).signer.csrf_token(found[1].sid))


def _login_form(
    request: Request, lang: str, next_path: str, error: str | None, status: int, username: str = ""
) -> HTMLResponse:
    signer = auth_state(request).signer
    csrf = signer.new_login_csrf()
    response = HTMLResponse(render(lang, csrf, next_path, error, username), status_code=status)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        csrf,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=auth_state(request).settings.web.secure_cookies,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
async def login_page(request: Request, next: str | None = None, lang: str | None = None) -> HTMLResponse:
    page = _login_form(request, ui_lang(request, lang), safe_next(next), None, 200)
    if lang in UI_LANGUAGES:  # an explicit choice (the page's language link) is remembered
        remember_lang(page, lang, secure=auth_state(request).settings.web.secure_cookies)
    return page


@router.post("/login", include_in_schema=False, response_model=None)
async def login_form(request: Request) -> Response:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise RequestTooLargeError("form too large")
    raw = body.decode("utf-8", "replace")
    form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
    if any("\x00" in key or "\x00" in value for key, value in form.items()):
        # as in a JSON body (web.json_guard): PostgreSQL can neither compare nor store it (the
        # user's look-up and the failed sign-in's audit row were a 500 there)
        raise InvalidRequestError(
            "the sign-in form holds the character U+0000 (NUL), which no text here may hold"
        )
    lang = ui_lang(request, form.get("lang"))
    next_path = safe_next(form.get("next"))
    username = form.get("username", "")[:100]
    signer = auth_state(request).signer
    if not signer.login_csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE), form.get("csrf")):
        return _login_form(request, lang, next_path, "expired", 403, username)
    try:
        user, password_hash = await _authenticate(request, username, form.get("password", ""))
    except TooManyAttemptsError as exc:
        page = _login_form(request, lang, next_path, "throttled", 429, username)
        page.headers["Retry-After"] = str(math.ceil(exc.retry_after_s))
        return page
    except NotSignedInError:
        return _login_form(request, lang, next_path, "failed", 401, username)
    response = RedirectResponse(next_path, status_code=303)
    _start_session(request, response, user, password_hash)
    response.delete_cookie(LOGIN_CSRF_COOKIE, httponly=True, samesite="strict")
    return response
