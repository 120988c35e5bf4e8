"""A websocket whose peer is gone without a close (a media fork's host lost, a half-open TCP
connection) is found by the server's pings and closed, so its call ends ``aborted`` instead of
staying live, silent, for ever. Real server (uvicorn with the options ``serve`` uses, pings every
``server.ws_ping_interval_s``), real SQLite; the client is a raw socket that opens ``/ws/ingest``,
starts a call and then reads nothing again, so it never answers a ping (what a dead peer does)."""

from __future__ import annotations

import base64
import json
import os
import socket
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from pydantic import SecretStr

from agent_monitor.compose import create_app
from agent_monitor.settings import Settings
from agent_monitor.storage import CallStatus, repo
from tests.web.live_support import LiveServer
from tests.web.ui_support import serve
from web.server_options import uvicorn_options

TOKEN = "keepalive-ingest-token-0123456789ab"
PING_S = 0.5


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, base_settings: Settings) -> Iterator[LiveServer]:
    settings = base_settings.model_copy(
        update={
            "data_dir": tmp_path_factory.mktemp("keepalive") / "data",
            "server": base_settings.server.model_copy(
                update={"audiosocket_port": None, "ws_ping_interval_s": PING_S, "ws_ping_timeout_s": PING_S}
            ),
            "web": base_settings.web.model_copy(update={"ingest_token": SecretStr(TOKEN)}),
        }
    )
    app = create_app(settings)
    with serve(app, **uvicorn_options(settings, "WARNING")) as url:
        yield LiveServer(url, settings, app.state.services, TOKEN)


def _frame(text: str) -> bytes:
    """A client's masked text frame (RFC 6455 5.2)."""
    payload, mask = text.encode(), os.urandom(4)
    assert len(payload) < 126
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x81, 0x80 | len(payload)]) + mask + masked


def _half_open(url: str, start: dict[str, str]) -> socket.socket:
    """A socket that opened /ws/ingest, sent ``start`` and will read nothing more."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws/ingest?token={TOKEN} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)  # byte by byte: nothing after the handshake is read
    assert head.startswith(b"HTTP/1.1 101"), head
    sock.sendall(_frame(json.dumps(start)))
    return sock


def test_a_peer_that_never_answers_a_ping_has_its_call_ended_aborted(server: LiveServer) -> None:
    call_id = "keepalive-" + uuid.uuid4().hex[:8]
    start = {"type": "start", "call_id": call_id, "agent_id": "A-KEEP", "encoding": "L16"}
    sock = _half_open(server.url, start)
    try:
        manager = server.services.manager
        deadline = time.monotonic() + 10
        while manager.get(call_id) is None:  # the call started
            assert time.monotonic() < deadline, "the call never started"
            time.sleep(0.05)
        started = time.monotonic()
        while manager.get(call_id) is not None:  # and ends once a ping goes unanswered
            assert time.monotonic() < started + 10 * PING_S + 5, "the call is still live"
            time.sleep(0.05)
        with server.services.db.session() as s:
            assert repo.get_call(s, call_id).status is CallStatus.ABORTED
    finally:
        sock.close()
