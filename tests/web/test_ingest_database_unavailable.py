"""A call that starts while its row cannot be written (every connection of the process's pool
busy for ``database.pool_timeout_s``, as under a burst of web requests, or the database down) is
opened again for up to ``live.outbox.spill_after_s`` (a database back within that time: the call
goes on), then refused with a reason to try again later (1013), not a server error (1011 and a
traceback); the same call started again once a connection is free goes on as any call. A real
server (uvicorn, the real Vosk model, SQLite)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from agent_monitor.compose import create_app
from agent_monitor.settings import DatabaseSettings, Settings
from agent_monitor.storage import CallStatus, repo
from tests.web.live_support import LiveServer
from tests.web.ui_support import serve

TOKEN = "pool-test-ingest-token-0123456789"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
REFUSED = "call not started: the database is not available right now; try again"


@pytest.fixture()
def server(tmp_path: Any, base_settings: Settings) -> Iterator[LiveServer]:
    settings = base_settings.model_copy(
        update={
            "data_dir": tmp_path / "data",
            "database": DatabaseSettings(pool_size=1, max_overflow=0, pool_timeout_s=2.0),
            "server": base_settings.server.model_copy(update={"audiosocket_port": None}),
            "web": base_settings.web.model_copy(update={"ingest_token": SecretStr(TOKEN)}),
        }
    )
    app = create_app(settings)
    with serve(app) as url:
        yield LiveServer(url, settings, app.state.services, TOKEN)


async def _call(server: LiveServer, call_id: str, frames: int) -> tuple[list[str], int | None, str | None]:
    """Start ``call_id``, send ``frames`` 20 ms frames of silence and stop: what the server sent,
    and its close code and reason."""
    got: list[str] = []
    async with connect(server.ws + "/ws/ingest", additional_headers=HEADERS) as ws:
        await ws.send(json.dumps({"type": "start", "call_id": call_id, "agent_id": "A-POOL"}))
        try:
            for _ in range(frames):
                await ws.send(bytes(640))
            await ws.send(json.dumps({"type": "stop"}))
            while True:
                got.append(str(await asyncio.wait_for(ws.recv(), 30)))
        except ConnectionClosed:
            return got, ws.close_code, ws.close_reason


def test_a_call_whose_row_cannot_be_written_is_refused_to_try_again(server: LiveServer) -> None:
    call_id = "pool-" + uuid.uuid4().hex[:8]
    held = server.services.db.engine.connect()  # the pool's only connection
    try:
        got, code, reason = asyncio.run(_call(server, call_id, 0))
    finally:
        held.close()
    assert (code, reason) == (1013, REFUSED), (code, reason, got)
    assert server.services.manager.get(call_id) is None
    got, code, reason = asyncio.run(_call(server, call_id, 50))  # tried again: a connection is free
    assert code == 1000, (code, reason, got)
    assert [json.loads(m)["type"] for m in got] == ["started", "stopped"], got
    with server.services.db.session() as s:
        assert repo.get_call(s, call_id).status is CallStatus.ENDED


def test_a_call_starting_while_the_database_is_locked_a_moment_goes_on(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite locked by another writer for 1.5 s, a write failing after 0.2 s ("database is
    locked", as PostgreSQL restarting fails at once): the opening is tried again and the call goes
    on once the lock is gone (on the code before: 1013 at the first failure)."""
    monkeypatch.setattr("agent_monitor.storage.engine.SQLITE_BUSY_TIMEOUT_MS", 200)
    server.services.db.engine.dispose()  # new connections: with the short busy timeout
    call_id = "locked-" + uuid.uuid4().hex[:8]
    db_file = server.settings.data_dir / "agent-monitor.db"
    lock = sqlite3.connect(db_file, isolation_level=None, timeout=10, check_same_thread=False)
    lock.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(1.5, lambda: lock.execute("ROLLBACK"))
    release.start()
    try:
        started = time.monotonic()
        got, code, reason = asyncio.run(_call(server, call_id, 50))
    finally:
        release.join()
        lock.close()
    assert code == 1000, (code, reason, got)
    assert [json.loads(m)["type"] for m in got] == ["started", "stopped"], got
    assert time.monotonic() - started > 1.4  # it waited for the lock
    with server.services.db.session() as s:
        assert repo.get_call(s, call_id).status is CallStatus.ENDED
