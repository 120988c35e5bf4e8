"""Strict JSON request bodies: numbers JSON cannot hold and broken Unicode are a 422, not a 500.

A pure ASGI middleware reads the body of every JSON request (``application/json``, at most
``MAX_JSON_BYTES``) before any route does, answers ``422`` with the problem when
:func:`agent_monitor.strict_json.loads_strict` refuses a value (``1e999``, ``NaN``, a lone
surrogate), ``413`` when the body is too large, and otherwise hands the same bytes on. Malformed
JSON is left to the route (FastAPI answers it with 422).

:func:`validation_error_response` answers a request that fails validation with 422 and each
problem's type, location and message, but not the offending input: FastAPI's own handler echoes
the input and fails with a 500 when it is not UTF-8 (a binary body sent as ``text/plain``), and
an echoed input could be a password.
"""

from __future__ import annotations

import json

from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agent_monitor.strict_json import StrictJsonError, loads_strict

#: no JSON request of this application is larger (rule packs are uploaded as files)
MAX_JSON_BYTES = 1 << 20
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return bool(value.split(b";")[0].strip().lower().endswith(b"json"))
    return False


def body_problem(body: bytes) -> str | None:
    """Why a JSON body is refused, or ``None`` (also for malformed JSON: the route answers that)."""
    try:
        loads_strict(body)
    except StrictJsonError as exc:
        return str(exc)
    except RecursionError:
        return "the JSON is nested too deeply"
    except ValueError:
        return None
    return None


class StrictJson:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in _BODY_METHODS or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_JSON_BYTES:
                await _answer(send, 413, f"a JSON body may have at most {MAX_JSON_BYTES} bytes")
                return
        problem = body_problem(body)
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
