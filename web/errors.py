"""One handler from :class:`~agent_monitor.errors.AgentMonitorError` to HTTP.

Routes raise the errors of :mod:`agent_monitor.errors` (never hand-built ``HTTPException``\\ s
for domain errors); :data:`STATUS` maps each error class to its status code, the nearest class in
the error's MRO deciding. A bad request is always a 4xx; only failures of the server itself
(database unreachable, an unexpected error) are a 5xx.

What the caller gets depends on who asks (:func:`wants_html`):

- API clients (paths under ``/api/``, ``/ws/``, ``/openapi.json``, static assets, or a request that
  accepts JSON but not HTML) get JSON ``{"detail": "one-line reason"}`` as before;
- a browser asking for a page gets an HTML error page in its language with a way back (the user's
  start page, or the sign-in page) (:mod:`web.ui.error_pages`); a page that needs a session sends
  a signed-out browser to ``/login?next=...`` instead (303).

The same answer is given to Starlette's own HTTP errors (unknown path 404, wrong method 405), and
a request that fails because the database cannot be reached (SQLAlchemy's ``OperationalError``:
SQLite locked past its busy timeout, PostgreSQL down) gets 503 with :data:`DATABASE_UNAVAILABLE`,
as does one that waited ``database.pool_timeout_s`` for a connection while every connection of the
process's pool was busy (SQLAlchemy's ``TimeoutError``; it was a plain 500); a websocket that
fails so is closed with 1013 (try again later) and that reason. A websocket whose handler fails
with an :class:`AgentMonitorError` is closed with the code of its status (1008 for the client's
fault, 1013 for 503, 1011 for a server fault) and the error as reason (:func:`close_websocket`;
before session 50 the handler tried to answer it as a request: a 4xx closed it as if all was well,
a 5xx failed inside the handler).
"""

from __future__ import annotations

import contextlib
import logging
import math
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.websockets import WebSocket

from agent_monitor.errors import (
    AccessError,
    AgentMonitorError,
    AudioError,
    AudioInputError,
    CallAlreadyLiveError,
    ConfigError,
    ConflictError,
    DatabaseUnavailableError,
    DataDirInUseError,
    IngestProtocolError,
    InvalidRecordError,
    InvalidRequestError,
    InvalidTransitionError,
    NotFoundError,
    NotSignedInError,
    PermissionDeniedError,
    RecordingError,
    RegistrationLimitError,
    RequestError,
    RequestTooLargeError,
    RulePackError,
    SessionClosedError,
    TooManyAttemptsError,
)
from agent_monitor.ingest import close_reason
from agent_monitor.ingest.starting import CLOSE_TRY_AGAIN_LATER
from web.auth.deps import WS_POLICY_VIOLATION, session_of
from web.language import ui_lang
from web.ui.error_pages import render_error
from web.ui.vocab import home_page

log = logging.getLogger(__name__)

#: error class -> HTTP status; an error gets the status of the nearest class in its MRO
STATUS: dict[type[AgentMonitorError], int] = {
    NotSignedInError: 401,
    PermissionDeniedError: 403,
    TooManyAttemptsError: 429,
    RequestTooLargeError: 413,
    InvalidRequestError: 422,
    AccessError: 403,
    RequestError: 400,
    NotFoundError: 404,
    ConflictError: 409,
    InvalidTransitionError: 409,
    CallAlreadyLiveError: 409,
    IngestProtocolError: 409,
    InvalidRecordError: 422,
    AudioError: 422,
    RulePackError: 422,
    RegistrationLimitError: 429,
    AudioInputError: 422,
    SessionClosedError: 409,
    RecordingError: 404,
    DatabaseUnavailableError: 503,
    DataDirInUseError: 503,
    ConfigError: 500,
    AgentMonitorError: 500,
}


def status_of(exc: AgentMonitorError) -> int:
    """The HTTP status of ``exc`` (:data:`STATUS`)."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def headers_of(exc: AgentMonitorError) -> dict[str, str]:
    if isinstance(exc, NotSignedInError):
        return {"WWW-Authenticate": exc.scheme}
    if isinstance(exc, TooManyAttemptsError):
        return {"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))}
    return {}


def is_api_path(path: str) -> bool:
    """Paths of machine clients and scripts: they always get JSON errors."""
    return path.startswith(("/api/", "/ws/", "/ui/static/")) or path in ("/api", "/openapi.json")


def wants_html(request: Request) -> bool:
    """A browser asking for a page: not an API path, and HTML accepted (or nothing said)."""
    if is_api_path(request.url.path):
        return False
    accept = request.headers.get("accept", "").lower()
    return "text/html" in accept or "application/json" not in accept


async def _way_back(request: Request) -> tuple[str, str]:
    try:
        found = await session_of(request)
    except Exception:  # the database is unavailable (whatever its driver raised): sign in is the way back
        found = None
    if found is None:
        return "/login", "login"
    return home_page(found[0].role), "home"


async def error_response(
    request: Request,
    status: int,
    detail: str,
    headers: dict[str, str] | None = None,
    way_back: tuple[str, str] | None = None,
) -> Response:
    """JSON ``{"detail": ...}`` for API clients, the HTML error page for browsers asking for a page
    (its link back: ``way_back`` when given, else looked up from the session)."""
    if not wants_html(request):
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)
    href, kind = way_back or await _way_back(request)
    body = render_error(ui_lang(request), status, detail, href, kind)
    return HTMLResponse(body, status_code=status, headers={**(headers or {}), "Cache-Control": "no-store"})


#: websocket close code: the server failed (RFC 6455 "internal error")
CLOSE_SERVER_ERROR = 1011
#: the close code of a websocket whose handler failed with an error of this HTTP status (any other
#: 5xx: 1011, a server fault; any 4xx: 1008, the request's)
WS_CLOSE_CODE = {503: CLOSE_TRY_AGAIN_LATER}


async def close_websocket(websocket: WebSocket, status: int, reason: str) -> None:
    """Close a websocket whose handler failed with an error of HTTP ``status``: the code
    (:data:`WS_CLOSE_CODE`) and ``reason`` shortened to fit the close frame; before it was accepted
    the client's handshake is refused (403). A client already gone is no error."""
    code = WS_CLOSE_CODE.get(status, CLOSE_SERVER_ERROR if status >= 500 else WS_POLICY_VIOLATION)
    with contextlib.suppress(RuntimeError, OSError):
        await websocket.close(code, close_reason(reason))


async def domain_error(request: Request, exc: Exception) -> Response | None:
    """The answer to an :class:`AgentMonitorError` (the module documentation says which); a
    websocket's (Starlette passes its errors here too) is its close (:func:`close_websocket`)."""
    assert isinstance(exc, AgentMonitorError)
    if isinstance(request, WebSocket):
        status = status_of(exc)
        if status >= 500:
            log.error("websocket %s failed: %s", request.url.path, exc, exc_info=exc)
        await close_websocket(request, status, str(exc))
        return None
    if isinstance(exc, NotSignedInError) and exc.scheme == "Cookie" and wants_html(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    status = status_of(exc)
    if status >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, exc, exc_info=exc)
    return await error_response(request, status, str(exc), headers_of(exc))


#: the answer while the database cannot be reached (SQLite locked past its busy timeout,
#: PostgreSQL down): a server fault, but said in words (it was a plain "Internal Server Error")
DATABASE_UNAVAILABLE = "the database is not available right now; try again in a moment"


async def database_error(request: Request, exc: Exception) -> Response | None:
    """503 with :data:`DATABASE_UNAVAILABLE` (and ``Retry-After``) for a request that failed on the
    database's connection or lock, or found no free connection in this process's pool within
    ``database.pool_timeout_s`` (the log says which settings bound the pool); the page's way back
    is the start page, not looked up in the database (that lookup would wait for it once more). A
    websocket is closed with 1013 and the same reason (this handler got it too, and failed)."""
    cause = "the database is unavailable"
    if isinstance(exc, PoolTimeoutError):
        cause = (
            "every database connection of this process stayed busy (database.pool_size and "
            "database.max_overflow bound them, within PostgreSQL's max_connections)"
        )
    if isinstance(request, WebSocket):
        log.error("websocket %s failed: %s: %s", request.url.path, cause, exc)
        await close_websocket(request, 503, DATABASE_UNAVAILABLE)
        return None
    log.error("%s %s failed: %s: %s", request.method, request.url.path, cause, exc)
    headers = {"Retry-After": "5"}
    return await error_response(request, 503, DATABASE_UNAVAILABLE, headers, way_back=("/", "home"))


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code < 400 or not wants_html(request):
        return await http_exception_handler(request, exc)
    return await error_response(request, exc.status_code, str(exc.detail), dict(exc.headers or {}))


def install_error_handler(app: FastAPI) -> None:
    """Answer every :class:`AgentMonitorError` and HTTP error of ``app`` as described above."""
    # domain_error and database_error answer a request and close a websocket (Starlette passes
    # either; its type annotations name a handler of one or the other)
    app.add_exception_handler(AgentMonitorError, domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(OperationalError, database_error)  # type: ignore[arg-type]
    app.add_exception_handler(PoolTimeoutError, database_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http_error)
