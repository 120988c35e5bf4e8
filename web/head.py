"""``HEAD`` wherever ``GET`` works (RFC 9110 9.3.2): a pure ASGI middleware, the application's
outermost, answers a ``HEAD`` request as the same request with ``GET`` (the same route, the same
access checks and dependencies, the same status and headers, ``Content-Length`` included) and sends
no body. FastAPI routes answer only the methods they name, so a monitoring probe's
``HEAD /healthz`` and ``curl -I`` on a page were a 405 before.

A ``HEAD`` is a ``GET`` to everything inside: a route refusing a caller refuses their ``HEAD`` alike.
The request's state says it was a ``HEAD`` (:func:`is_head`), so that what a ``GET`` records in the
audit log as a download a ``HEAD`` records as what it was, a look at the headers (a recording's
size, an export's): the audit log must not show a download that never happened. Websockets pass
untouched."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: the key of the request state that marks a ``HEAD`` answered as a ``GET``
HEAD_STATE = "head_request"

#: the messages that carry (or stand for) the body of a response
_BODY = frozenset({"http.response.body", "http.response.pathsend", "http.response.zerocopysend"})


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        ended = False

        async def send_head(message: Message) -> None:
            nonlocal ended
            if message["type"] not in _BODY:
                await send(message)
            elif not ended and not (message["type"] == "http.response.body" and message.get("more_body")):
                ended = True  # the last part of the body: the response ends, empty
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        # the server keeps its own scope (still HEAD): it expects no body and checks none
        state = {**scope.get("state", {}), HEAD_STATE: True}
        await self.app({**scope, "method": "GET", "state": state}, receive, send_head)


def is_head(request: Request) -> bool:
    """Was ``request`` a ``HEAD`` (answered as a ``GET`` without its body)?"""
    return bool(getattr(request.state, HEAD_STATE, False))
