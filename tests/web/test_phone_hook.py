"""The phone-system hook against a local HTTP receiver: a 2xx is done; an error status, a refused
connection and a timeout come back as failures with a reason (never an exception); no URL: not sent."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import SecretStr

from agent_monitor.settings import PhoneHookSettings
from web.ui.phone_hook import HookRequest, TakeOverAction, call_phone_hook

REQUEST = HookRequest("c-1", "A-9", "sam", TakeOverAction.BARGE, 7, "note")


@pytest.fixture()
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    got: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            got.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
            if self.path == "/slow":
                time.sleep(1.5)
            status = 503 if self.path == "/busy" else 204
            try:
                self.send_response(status)
                self.end_headers()
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", got
    server.shutdown()
    server.server_close()


def hook(url: str | None, timeout: float = 1.0) -> Any:
    settings = PhoneHookSettings(url=url, timeout_s=timeout, token=SecretStr("t0ken"))
    return asyncio.run(call_phone_hook(settings, REQUEST))


def test_a_2xx_answer_is_done_and_carries_the_request(receiver: tuple[str, list[dict[str, Any]]]) -> None:
    url, got = receiver
    result = hook(url + "/ok")
    assert result.sent and result.ok and result.status == 204 and result.error is None
    assert got == [
        {
            "path": "/ok",
            "auth": "Bearer t0ken",
            "call_id": "c-1",
            "agent_id": "A-9",
            "supervisor": "sam",
            "action": "barge",
            "alert_id": 7,
            "note": "note",
        }
    ]


def test_failures_are_reported_not_raised(receiver: tuple[str, list[dict[str, Any]]]) -> None:
    url, _ = receiver
    busy = hook(url + "/busy")
    assert busy.sent and not busy.ok and busy.status == 503 and busy.error == "it answered HTTP 503"
    slow = hook(url + "/slow", timeout=0.5)
    assert not slow.ok and slow.error == "no answer within 0.5 s"
    refused = hook("http://127.0.0.1:9/none")  # the discard port: nothing listens there
    assert not refused.ok and refused.error is not None and refused.error.startswith("unreachable")


def test_no_url_sends_nothing() -> None:
    result = hook(None)
    assert not result.sent and not result.ok
