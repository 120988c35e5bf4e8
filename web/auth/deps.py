"""FastAPI dependencies of authentication and authorization: who is asking, and may they.

- :class:`CurrentUser`: the signed-in user (username, role, agent id for agents, team for
  supervisors), loaded from the database on every request so a deactivated user, a role change or
  a password change takes effect at once.
- :func:`current_user`: the user of the request's session cookie; without one
  :class:`NotSignedInError` (``401`` JSON for ``/api/*``, a redirect to ``/login?next=...`` for
  pages: :mod:`web.errors`).
- :func:`require_roles`: ``Depends(require_roles(Role.QA, Role.ADMIN))`` gives the user, or
  :class:`PermissionDeniedError` (``403``).
- the signed-in user of each set of roles, defined once for every route: :data:`SignedIn`,
  :data:`CsrfChecked`, :data:`AnyRole`, :data:`AgentUser`, :data:`SupervisorUser`,
  :data:`ReviewerUser`, :data:`ReplayUser`, :data:`LiveViewer`, :data:`AdminUser`,
  :data:`AdminChange`.
- :func:`websocket_user`: the same for websockets (also refusing a foreign ``Origin``); closes the
  socket with 1008 and returns ``None`` when not allowed.
- :func:`csrf_protect`: unsafe methods (POST, PUT, PATCH, DELETE) need the header
  ``X-CSRF-Token`` equal to the session's CSRF token (cookie ``am_csrf``, also ``/api/auth/me``).
- :func:`require_ingest_token` / :func:`websocket_ingest_ok`: machine clients (ingest) present the
  ingest token as ``Authorization: Bearer ...`` (or ``?token=``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Request, WebSocket
from starlette.requests import HTTPConnection

from agent_monitor.errors import IngestProtocolError, NotSignedInError, PermissionDeniedError
from agent_monitor.model.roles import Role
from agent_monitor.storage import repo
from agent_monitor.strict_json import loads_strict
from web.auth.state import AuthState
from web.auth.tokens import CSRF_HEADER, SESSION_COOKIE, SessionToken, password_fingerprint
from web.services import services_of

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: websocket close code for "policy violation" (not signed in, role not allowed, foreign origin)
WS_POLICY_VIOLATION = 1008


@dataclass(frozen=True)
class CurrentUser:
    username: str
    role: Role
    agent_id: str | None = None
    team: str | None = None


def auth_state(conn: HTTPConnection) -> AuthState:
    state = getattr(conn.app.state, "auth", None)
    if not isinstance(state, AuthState):
        raise RuntimeError("web.auth is not installed on this application (call install_auth)")
    return state


def _load_user(conn: HTTPConnection, token: SessionToken) -> Any:
    """The user row, or ``None`` when the user is unknown, the session was revoked (logout) or an
    admin ended the user's sessions at or after its issue time (to the microsecond)."""
    with services_of(conn).db.session() as s:
        user = repo.get_user(s, token.username)
        if (
            user is None
            or repo.session_revoked(s, token.sid)
            or repo.sessions_ended(s, user.username, token.issued_at)
        ):
            return None
        s.expunge(user)
        return user


async def session_of(conn: HTTPConnection) -> tuple[CurrentUser, SessionToken] | None:
    """The user and session of the connection's session cookie, when valid; else ``None``."""
    cached = getattr(conn.state, "am_auth", None)
    if cached is not None:
        return cached if cached != () else None
    result = await _resolve_session(conn)
    conn.state.am_auth = result if result is not None else ()
    return result


async def _resolve_session(conn: HTTPConnection) -> tuple[CurrentUser, SessionToken] | None:
    raw = conn.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    state = auth_state(conn)
    token = state.signer.verify(raw)
    if token is None or state.revoked(token.sid):
        return None
    row = await asyncio.to_thread(_load_user, conn, token)
    if (
        row is None
        or not row.active
        or not hmac.compare_digest(password_fingerprint(row.password_hash), token.pw)
    ):
        return None
    return CurrentUser(row.username, Role(row.role), row.agent_id, row.team), token


async def current_user(request: Request) -> CurrentUser:
    found = await session_of(request)
    if found is None:
        raise NotSignedInError("not signed in")
    return found[0]


#: ``user: SignedIn`` in a route's parameters: the signed-in user (401 / redirect to /login otherwise)
SignedIn = Annotated[CurrentUser, Depends(current_user)]


def require_roles(*roles: Role) -> Callable[..., Awaitable[CurrentUser]]:
    """A dependency giving the signed-in user when their role is one of ``roles``; 403 otherwise."""
    if not roles:
        raise ValueError("require_roles needs at least one role")
    allowed = frozenset(Role(r) for r in roles)

    async def dependency(user: SignedIn) -> CurrentUser:
        if user.role not in allowed:
            raise PermissionDeniedError("your role may not do this")
        return user

    dependency.__name__ = f"require_roles_{'_'.join(r.value for r in roles)}"
    return dependency


def origin_ok(conn: HTTPConnection) -> bool:
    """A browser's ``Origin`` (when sent) must be this server: stops cross-site websocket hijacking."""
    origin = conn.headers.get("origin")
    if origin is None:
        return True
    host = conn.headers.get("host", "")
    return urlsplit(origin).netloc.lower() == host.lower() and host != ""


async def websocket_user(websocket: WebSocket, *roles: Role) -> CurrentUser | None:
    """The signed-in user of a websocket when their role is among ``roles`` (any role when none are
    given); otherwise the socket is closed with 1008 (before it is accepted) and ``None`` returned."""
    allowed = frozenset(Role(r) for r in roles)
    found = await session_of(websocket) if origin_ok(websocket) else None
    if found is None or (allowed and found[0].role not in allowed):
        await websocket.close(WS_POLICY_VIOLATION)
        return None
    return found[0]


async def session_still_valid(conn: HTTPConnection, user: CurrentUser) -> bool:
    """Whether the connection's session still stands for ``user`` with the same rights: not
    logged out (revoked), the user active, the password and role unchanged. Looked up afresh."""
    try:
        found = await _resolve_session(conn)
    except Exception:  # the database is unavailable: keep the socket, check again later
        return True
    return found is not None and found[0] == user


async def watch_session(
    websocket: WebSocket, user: CurrentUser, every_s: float, on_end: Callable[[], Any]
) -> None:
    """Re-check a websocket's session every ``every_s`` seconds; when it no longer stands (logout,
    deactivation, password or role change) close the socket with 1008 and call ``on_end``."""
    while True:
        await asyncio.sleep(every_s)
        if not await session_still_valid(websocket, user):
            on_end()
            with contextlib.suppress(RuntimeError, OSError):
                await websocket.close(WS_POLICY_VIOLATION, "session ended")
            return


async def csrf_protect(request: Request, user: SignedIn) -> CurrentUser:
    """For unsafe methods: the ``X-CSRF-Token`` header must carry the session's CSRF token (403)."""
    if request.method in UNSAFE_METHODS:
        found = await session_of(request)
        if found is None:  # current_user already refused this; kept for clarity
            raise NotSignedInError("not signed in")
        if not auth_state(request).signer.csrf_ok(found[1].sid, request.headers.get(CSRF_HEADER)):
            raise PermissionDeniedError("missing or wrong CSRF token (header X-CSRF-Token)")
    return user


#: ``user: CsrfChecked`` in an unsafe route's parameters: the signed-in user, CSRF token checked
CsrfChecked = Annotated[CurrentUser, Depends(csrf_protect)]


def _presented_ingest_token(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return conn.query_params.get("token")


def ingest_token_ok(conn: HTTPConnection) -> bool:
    presented = _presented_ingest_token(conn)
    return presented is not None and hmac.compare_digest(
        presented.encode("utf-8"), auth_state(conn).ingest_token.encode("utf-8")
    )


async def require_ingest_token(request: Request) -> None:
    """Machine endpoints (``POST /api/audiosocket/register``): 401 without the ingest token."""
    if not ingest_token_ok(request):
        raise NotSignedInError("this endpoint needs the ingest token", scheme="Bearer")


async def websocket_ingest_ok(websocket: WebSocket) -> bool:
    """Ingest websockets: closes with 1008 and returns ``False`` without the ingest token."""
    if ingest_token_ok(websocket):
        return True
    await websocket.close(WS_POLICY_VIOLATION)
    return False


def twilio_start_token_ok(conn: HTTPConnection, text: str) -> bool:
    """Before a Twilio stream is authorized: a ``connected`` event passes (``False``: not yet
    authorized), a ``start`` event must carry the ingest token as custom parameter ``token``
    (``True``); anything else, or a wrong token, is refused (:class:`IngestProtocolError`, 1008)."""
    try:
        data = loads_strict(text)
    except (ValueError, RecursionError):
        data = None
    event = data.get("event") if isinstance(data, dict) else None
    if event == "connected":
        return False
    if event == "start":
        start = data.get("start") if isinstance(data, dict) else None
        params = start.get("customParameters") if isinstance(start, dict) else None
        token = params.get("token") if isinstance(params, dict) else None
        expected = auth_state(conn).ingest_token
        if isinstance(token, str) and hmac.compare_digest(token.encode("utf-8"), expected.encode("utf-8")):
            return True
    raise IngestProtocolError("the ingest token is missing or wrong", WS_POLICY_VIOLATION)


#: roles that may open a call's record (each further limited to the calls in its scope)
CALL_READERS = (Role.AGENT, Role.SUPERVISOR, Role.QA, Role.ADMIN)
SUPERVISORS = (Role.SUPERVISOR, Role.ADMIN)
REVIEWERS = (Role.QA, Role.ADMIN)
#: who may replay recordings and export evidence (each limited to the calls in their scope)
REPLAYERS = (Role.QA, Role.SUPERVISOR, Role.ADMIN)
#: who watches calls live (QA reviews finished calls only)
LIVE_VIEWERS = (Role.AGENT, Role.SUPERVISOR, Role.ADMIN)

# the signed-in user of a route, by the roles it admits (403 for others, 401 / login when signed out)
AnyRole = Annotated[CurrentUser, Depends(require_roles(*CALL_READERS))]
AgentUser = Annotated[CurrentUser, Depends(require_roles(Role.AGENT))]
SupervisorUser = Annotated[CurrentUser, Depends(require_roles(*SUPERVISORS))]
ReviewerUser = Annotated[CurrentUser, Depends(require_roles(*REVIEWERS))]
ReplayUser = Annotated[CurrentUser, Depends(require_roles(*REPLAYERS))]
LiveViewer = Annotated[CurrentUser, Depends(require_roles(*LIVE_VIEWERS))]
AdminUser = Annotated[CurrentUser, Depends(require_roles(Role.ADMIN))]
#: managers who read reports: supervisors (their own team), QA and admins
ReportReader = Annotated[CurrentUser, Depends(require_roles(Role.SUPERVISOR, Role.QA, Role.ADMIN))]


async def _admin_change(user: AdminUser, checked: CsrfChecked) -> CurrentUser:
    return user


#: an admin making a change (CSRF token checked)
AdminChange = Annotated[CurrentUser, Depends(_admin_change)]
