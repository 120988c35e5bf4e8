"""Strict JSON request bodies: numbers JSON cannot hold and broken Unicode are a 422, not a 500.

A pure ASGI middleware reads the body of every HTTP request (at most ``MAX_BODY_BYTES``, whatever
its content type: a form or a ``text/plain`` body was once read whole, however large) before any
route does and answers ``413`` when it is larger (at once when ``Content-Length`` says so). A JSON
body (``application/json``) is answered ``422`` with the problem when
:func:`agent_monitor.strict_json.loads_strict` refuses a value (``1e999``, ``NaN``, a lone
surrogate); otherwise the same bytes are handed on. Malformed JSON is left to the route (FastAPI
answers it with 422), unless the route's reader would take it (a UTF-8 byte order mark, UTF-16 or
UTF-32 without one): such a body is refused here, its content unchecked.

Text holding U+0000 (NUL) is refused with 422 where it comes in, in a JSON body's strings and in
the path or query of any HTTP request: PostgreSQL can neither store nor compare it (a call id,
a queue filter or review notes with one were a 500 there, and taken on SQLite). A websocket whose
path or query holds one is closed before it is accepted (1008; the handshake is answered 403):
``/ws/listen/a%00b`` was a 500 on PostgreSQL.

:func:`validation_error_response` answers a request that fails validation with 422 and each
problem's type, location and message, but not the offending input: FastAPI's own handler echoes
the input and fails with a 500 when it is not UTF-8 (a binary body sent as ``text/plain``), and
an echoed input could be a password.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agent_monitor.errors import RequestTooLargeError
from agent_monitor.ingest import close_reason
from agent_monitor.strict_json import StrictJsonError, loads_strict

#: no request body of this application is larger (the largest, a rule pack's YAML sent as JSON
#: by the admin page, is tens of KB; the sign-in form takes 16 KiB at most)
MAX_BODY_BYTES = 1 << 20
MAX_JSON_BYTES = MAX_BODY_BYTES
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_TOO_LARGE = f"a request body may have at most {MAX_BODY_BYTES} bytes"


def _header(scope: Scope, wanted: bytes) -> bytes | None:
    for name, value in scope.get("headers", []):
        if name == wanted:
            return bytes(value)
    return None


def _is_json(scope: Scope) -> bool:
    value = _header(scope, b"content-type")
    return value is not None and value.split(b";")[0].strip().lower().endswith(b"json")


def _declared_too_large(scope: Scope) -> bool:
    value = _header(scope, b"content-length")
    return value is not None and value.strip().isdigit() and int(value) > MAX_BODY_BYTES


async def _read_body(receive: Receive) -> bytes | None:
    """The whole body, or ``None`` when the client left; :class:`RequestTooLargeError` as soon as
    it passes ``MAX_BODY_BYTES`` (the rest is never read)."""
    body, more = bytearray(), True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if len(body) > MAX_BODY_BYTES:
            raise RequestTooLargeError(_TOO_LARGE)
    return bytes(body)


#: why text holding U+0000 is refused: PostgreSQL cannot store nor compare it (a 500 there)
_NUL = "holds the character U+0000 (NUL), which no text here may hold"


def _holds_nul(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str) and "\x00" in item:
            return True
        if isinstance(item, dict):
            stack.extend([*item.keys(), *item.values()])
        elif isinstance(item, list):
            stack.extend(item)
    return False


def address_problem(scope: Scope) -> str | None:
    """Why a request's path or query is refused (a U+0000 in it), or ``None``."""
    if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b""):
        return f"the request's address {_NUL}"
    return None


def body_problem(body: bytes) -> str | None:
    """Why a JSON body is refused, or ``None`` (also for malformed JSON: the route answers that)."""
    try:
        value = loads_strict(body)
        if b"\\u0000" in body and _holds_nul(value):
            return f"a string {_NUL}"
    except StrictJsonError as exc:
        return str(exc)
    except RecursionError:
        return "the JSON is nested too deeply"
    except ValueError:
        return _read_by_the_route(body)
    return None


def _read_by_the_route(body: bytes) -> str | None:
    """Why a body :func:`loads_strict` found malformed is refused here all the same, or ``None``
    (the route answers it): the route reads JSON with Python's own reader, which also takes a UTF-8
    byte order mark and UTF-16 or UTF-32 without one; such a body passed none of the checks above
    (a U+0000 in review notes was a 500 on PostgreSQL)."""
    try:
        json.loads(body)
    except (ValueError, RecursionError):
        return None
    return "a JSON body must be UTF-8 text without a byte order mark"


class StrictJson:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and (problem := address_problem(scope)) is not None:
            await _refuse_websocket(receive, send, problem)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if (problem := address_problem(scope)) is not None:
            await _answer(send, 422, problem)
            return
        if _declared_too_large(scope):
            await _answer(send, 413, _TOO_LARGE)
            return
        try:
            body = await _read_body(receive)
        except RequestTooLargeError:
            await _answer(send, 413, _TOO_LARGE)
            return
        if body is None:
            return
        strict = scope.get("method") in _BODY_METHODS and _is_json(scope)
        problem = body_problem(body) if strict else None
        if problem is not None:
            await _answer(send, 422, problem)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _refuse_websocket(receive: Receive, send: Send, problem: str) -> None:
    """Close a websocket before it is accepted (1008: the server answers the handshake with 403)."""
    if (await receive())["type"] == "websocket.connect":
        await send({"type": "websocket.close", "code": 1008, "reason": close_reason(problem)})


async def _answer(send: Send, status: int, problem: str) -> None:
    data = json.dumps({"detail": problem}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


async def validation_error_response(request: Request, exc: Exception) -> JSONResponse:
    """422 with the problems of a request that failed validation (the inputs left out)."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = [
        {
            "type": str(e.get("type", "")),
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
        }
        for e in errors
    ]
    return JSONResponse(status_code=422, content={"detail": jsonable_encoder(detail)})
