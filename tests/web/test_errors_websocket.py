"""A websocket whose handler fails with an :class:`AgentMonitorError` is closed with the code of
the error's status and the error as reason (web/errors.py ``domain_error``).

Starlette hands a websocket's errors to the same handlers as a request's; before session 50
``domain_error`` answered it as a request: the response was dropped, so a 4xx error closed the
socket as if all was well (1000), and a 5xx one failed inside the handler (a websocket has no
``method``). The application here is a bare FastAPI app with the project's handlers installed and
one websocket route per case (no route of the product lets these errors escape today: the test
holds the handler to its word for the next one)."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI, WebSocket
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from agent_monitor.errors import (
    AgentMonitorError,
    DatabaseUnavailableError,
    NotFoundError,
    PermissionDeniedError,
    RequestTooLargeError,
)
from web.errors import install_error_handler

RAISED: dict[str, AgentMonitorError] = {
    "denied": PermissionDeniedError("not your call"),
    "large": RequestTooLargeError("frame too large " + "x" * 200),
    "away": DatabaseUnavailableError("the database is down"),
    "bug": AgentMonitorError("a server fault"),
    "missing": NotFoundError("no call c-1"),
}


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handler(app)

    @app.websocket("/ws/after/{case}")
    async def after_accept(websocket: WebSocket, case: str) -> None:
        await websocket.accept()
        raise RAISED[case]

    @app.websocket("/ws/before/{case}")
    async def before_accept(websocket: WebSocket, case: str) -> None:
        raise RAISED[case]

    return app


@pytest.mark.parametrize(
    ("case", "code"),
    [("denied", 1008), ("large", 1008), ("missing", 1008), ("away", 1013), ("bug", 1011)],
)
def test_an_accepted_websocket_is_closed_with_the_errors_code_and_reason(
    case: str, code: int, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        TestClient(_app()) as client,
        client.websocket_connect(f"/ws/after/{case}") as ws,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        ws.receive_text()
    assert closed.value.code == code
    reason = str(RAISED[case])
    assert closed.value.reason == (reason if len(reason) <= 123 else reason[:120] + "...")
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert bool(logged) == (code in (1011, 1013)), logged  # a server fault is logged, with its traceback
    assert all(r.exc_info for r in logged)


@pytest.mark.parametrize(("case", "code"), [("denied", 1008), ("bug", 1011)])
def test_a_websocket_not_yet_accepted_is_refused(case: str, code: int) -> None:
    with TestClient(_app()) as client, pytest.raises(WebSocketDisconnect) as refused:
        client.websocket_connect(f"/ws/before/{case}").__enter__()
    assert refused.value.code == code  # a server's handshake is refused with 403 (uvicorn)
