"""``HEAD`` wherever ``GET`` works (RFC 9110 9.3.2): a pure ASGI middleware, the application's
outermost, answers a ``HEAD`` request as the same request with ``GET`` (the same route, the same
access checks and dependencies, the same status and headers, ``Content-Length`` included) and sends
no body. FastAPI routes answer only the methods they name, so a monitoring probe's
``HEAD /healthz`` and ``curl -I`` on a page were a 405 before.

A ``HEAD`` is a ``GET`` to everything inside: a route refusing a caller refuses their ``HEAD`` alike,
and what a ``GET`` records (a download in the audit log) a ``HEAD`` records too. Websockets pass
untouched."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
        await self.app({**scope, "method": "GET"}, receive, send_head)
