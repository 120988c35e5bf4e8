"""Issue #15 item 5: a full disk. A real ``agent-monitor serve`` process whose files may not grow
beyond 8 MB (RLIMIT_FSIZE: the kernel refuses the write, as a full disk does) receives a call
longer than that: the call is ended with the reason ``disk full`` (close 1011, row ``aborted``
through the normal end path), ``/healthz`` says so, and a new call is refused with the same
reason (1013) instead of a bare server error, and so is an AudioSocket leg (an error frame;
before session 39 its call started)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from agent_monitor.errors import NotFoundError
from agent_monitor.ingest.audiosocket import Frame, Kind, encode_frame, read_frame, uuid_frame
from agent_monitor.storage import Database, repo
from tests.web.server_process import TOKEN, ServerProcess

LIMIT = 8 * 1024 * 1024
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("diskfull") / "data", max_file_bytes=LIMIT).start()
    try:
        yield proc
    finally:
        proc.stop()


async def _stream_until_closed(server: ServerProcess, call_id: str, seconds: float) -> tuple[int, str]:
    start = {"type": "start", "call_id": call_id, "agent_id": "A-1", "sample_rate": 8000}
    frame = (b"\x10\x00" * 2) * 160  # 20 ms of stereo L16, not silence
    async with connect(server.ws + "/ws/ingest", additional_headers=HEADERS) as ws:
        await ws.send(json.dumps(start))
        reply = json.loads(await ws.recv())
        assert reply["type"] == "started", reply
        try:
            for _ in range(int(seconds * 50)):
                await ws.send(frame)
            await ws.send(json.dumps({"type": "stop"}))
            while True:
                await asyncio.wait_for(ws.recv(), 60)
        except ConnectionClosed:
            pass
        return ws.close_code or 0, ws.close_reason or ""


async def _start_refused(server: ServerProcess) -> tuple[int, str]:
    start = {"type": "start", "call_id": "after-full", "agent_id": "A-1", "sample_rate": 8000}
    async with connect(server.ws + "/ws/ingest", additional_headers=HEADERS) as ws:
        await ws.send(json.dumps(start))
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 30)
        return ws.close_code or 0, ws.close_reason or ""


def _status(server: ServerProcess, call_id: str) -> str:
    db = Database.open(f"sqlite:///{server.data_dir / 'agent-monitor.db'}")
    try:
        with db.session() as s:
            return str(repo.get_call(s, call_id).status)
    finally:
        db.dispose()


def test_a_full_disk_ends_the_call_with_a_reason(server: ServerProcess) -> None:
    code, reason = asyncio.run(_stream_until_closed(server, "fills-disk", 600.0))  # 9.6 MB per leg
    assert code == 1011 and reason.startswith("disk full"), (code, reason)
    deadline = time.monotonic() + 30
    while _status(server, "fills-disk") == "live" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _status(server, "fills-disk") == "aborted"
    health = httpx.get(server.url + "/healthz").json()
    assert health["ok"] is False and health["disk"]["problem"].startswith("disk full"), health


def test_new_calls_are_refused_while_the_disk_is_full(server: ServerProcess) -> None:
    code, reason = asyncio.run(_start_refused(server))
    assert code == 1013 and "disk full" in reason, (code, reason)


async def _audiosocket_start_refused(server: ServerProcess) -> tuple[Frame | None, str]:
    """An AudioSocket leg by the UUID convention (last byte 00: the agent's); the frame it is
    answered with, and the call id it would have started."""
    value = uuid.UUID(int=uuid.uuid4().int & ~0xFF)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.audiosocket_port)
    try:
        writer.write(uuid_frame(value) + encode_frame(Kind.AUDIO, b"\x10\x00" * 160))
        await writer.drain()
        answer = await asyncio.wait_for(read_frame(reader), 30)
    finally:
        writer.close()
    return answer, f"audiosocket-{value}"


def test_audiosocket_calls_are_refused_while_the_disk_is_full(server: ServerProcess) -> None:
    """As on the websockets: an error frame saying why, and no call (before: the call started)."""
    answer, call_id = asyncio.run(_audiosocket_start_refused(server))
    assert answer is not None and answer.kind is Kind.ERROR, answer
    assert answer.payload.decode().startswith("call not started: disk full"), answer.payload
    db = Database.open(f"sqlite:///{server.data_dir / 'agent-monitor.db'}")
    try:
        with db.session() as s, pytest.raises(NotFoundError):
            repo.get_call(s, call_id)
    finally:
        db.dispose()


def test_no_server_error_in_the_log(server: ServerProcess) -> None:
    log = server.log()
    assert "Traceback" not in log and "server error" not in log
