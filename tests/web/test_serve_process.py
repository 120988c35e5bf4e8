"""Issue #15 items 7, 9, 10 and 13 (log lines, slow-loris) against a real ``agent-monitor serve``
process: what the process logs, which client address it believes, and a second server on its
data directory."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from agent_monitor.storage import Database, repo
from tests.web.raw_websocket import open_websocket
from tests.web.server_process import REPO, TOKEN, ServerProcess, free_port

USER, PASSWORD = "boss", "correct horse battery staple"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(
        tmp_path_factory.mktemp("serve") / "data", extra_env={"AGENT_MONITOR_SERVER__HEADER_TIMEOUT_S": "3"}
    )
    added = subprocess.run(
        [sys.executable, "-m", "agent_monitor", "users", "add", USER, "--role", "admin", "--password-stdin"],
        input=PASSWORD + "\n",
        env=proc.env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert added.returncode == 0, added.stderr
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def _db(server: ServerProcess) -> Database:
    return Database.open(f"sqlite:///{server.data_dir / 'agent-monitor.db'}")


async def _open_call(server: ServerProcess, call_id: str, query: str = "") -> None:
    start = {"type": "start", "call_id": call_id, "agent_id": "A-1", "sample_rate": 8000}
    headers = None if query else {"Authorization": f"Bearer {TOKEN}"}
    async with connect(server.ws + "/ws/ingest" + query, additional_headers=headers) as ws:
        await ws.send(json.dumps(start))
        assert json.loads(await ws.recv())["type"] == "started"
        await ws.send(bytes(640))
        await ws.send(json.dumps({"type": "stop"}))
        assert json.loads(await ws.recv())["type"] == "stopped"


@pytest.mark.parametrize("weak", ["password12", "1111111111"])
def test_users_add_refuses_weak_passwords(server: ServerProcess, weak: str) -> None:
    added = subprocess.run(
        [
            sys.executable,
            "-m",
            "agent_monitor",
            "users",
            "add",
            "weakling",
            "--role",
            "qa",
            "--password-stdin",
        ],
        input=weak + "\n",
        env=server.env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert added.returncode != 0 and "strength" in added.stderr, added.stderr


def test_the_ingest_token_never_reaches_the_log(server: ServerProcess) -> None:
    asyncio.run(_open_call(server, "token-in-query", f"?token={TOKEN}"))
    httpx.get(server.url + f"/healthz?token={TOKEN}&x=1")
    time.sleep(0.3)
    log = server.log()
    assert TOKEN not in log
    assert "token=[redacted]" in log


def test_a_text_frame_that_is_not_utf8_is_refused_and_logged_as_a_warning(server: ServerProcess) -> None:
    """The client's bytes, not a server error: closed 1007 and one WARNING line in the log, no
    ERROR and no traceback (uvicorn logs it as an error with a traceback)."""
    before = len(server.log())
    with open_websocket(server.url, "/ws/ingest", TOKEN) as sock:
        sock.sendall(bytes([0x81, 0x82, 0, 0, 0, 0, 0xFF, 0xFE]))  # a masked text frame: not UTF-8
        close = sock.recv(4096)
    assert close[:1] == b"\x88" and int.from_bytes(close[2:4], "big") == 1007
    time.sleep(0.3)
    log = server.log()[before:]
    assert "WARNING uvicorn.error: Invalid UTF-8 sequence received from client." in log
    assert "ERROR" not in log and "Traceback" not in log, log


def test_every_log_line_has_a_utc_timestamp(server: ServerProcess) -> None:
    lines = [line for line in server.log().splitlines() if line.strip()]
    # the lines serve prints at start-up, before logging starts: its address and its languages
    lines = [
        line
        for line in lines
        if not line.startswith(("agent-monitor: serving on", "agent-monitor: transcribes"))
    ]
    assert lines, "the server logged nothing"
    untimed = [line for line in lines if not TIMESTAMP.match(line)]
    assert not untimed, untimed[:5]


def test_forwarded_for_is_not_trusted_by_default(server: ServerProcess) -> None:
    statuses = []
    for n in range(30):
        spoofed = {"X-Forwarded-For": f"203.0.113.{n}"}
        body = {"username": USER, "password": f"wrong password {n}"}
        statuses.append(httpx.post(server.url + "/api/auth/login", json=body, headers=spoofed).status_code)
    assert statuses[:5] == [401] * 5
    assert set(statuses[5:]) == {429}, statuses
    db = _db(server)
    try:
        with db.session() as s:
            rows = repo.list_audit(s, actor=USER, limit=100)
            addresses = {(r.detail or {}).get("ip") for r in rows}
    finally:
        db.dispose()
    assert addresses == {"127.0.0.1"}, addresses


def test_slow_request_heads_are_cut_off(server: ServerProcess) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        t0 = time.monotonic()
        for _ in range(20):  # a header line every 0.5 s: never complete
            try:
                sock.sendall(b"X-Slow: 1\r\n")
                if sock.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK) == b"":
                    break
            except BlockingIOError:
                pass
            except OSError:
                break
            time.sleep(0.5)
        closed_after = time.monotonic() - t0
    # cut at about 3 s (the module server's deadline) while the client went on for 10 s
    assert closed_after < 8, f"the connection was still open after {closed_after:.1f} s"
    assert httpx.get(server.url + "/healthz").status_code == 200


def test_a_second_server_on_the_data_directory_refuses_to_start(server: ServerProcess) -> None:
    async def hold_call() -> None:
        start = {"type": "start", "call_id": "held-live", "agent_id": "A-1", "sample_rate": 8000}
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with connect(server.ws + "/ws/ingest", additional_headers=headers) as ws:
            await ws.send(json.dumps(start))
            await ws.recv()
            await ws.send(bytes(640))
            second = ServerProcess(server.data_dir, port=free_port(), audiosocket_port=free_port())
            second.start(wait=False)
            assert second.proc is not None
            try:
                code = await asyncio.to_thread(second.proc.wait, 60)
            finally:
                second.stop()
            assert code != 0
            assert "is in use by another agent-monitor server" in second.log()
            db = _db(server)
            try:
                with db.session() as s:
                    assert str(repo.get_call(s, "held-live").status) == "live"
            finally:
                db.dispose()
            await ws.send(json.dumps({"type": "stop"}))
            assert json.loads(await ws.recv())["type"] == "stopped"

    asyncio.run(hold_call())
    assert Path(server.data_dir / "agent-monitor.lock").is_file()


@pytest.mark.parametrize(
    ("taken", "setting"), [("audiosocket_port", "server.audiosocket_port"), ("port", "server.port")]
)
def test_a_port_in_use_fails_the_start_with_one_line_and_exit_status_3(
    tmp_path: Path, taken: str, setting: str
) -> None:
    """Another process listens on the AudioSocket (or HTTP) port: ``serve`` exits 3 (uvicorn's
    startup failure) with one line naming the port and the setting, no traceback (the AudioSocket
    port was uvicorn's whole lifespan traceback, after the models had loaded)."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        second = ServerProcess(tmp_path / "data", **{taken: busy})
        second.start(wait=False)
        assert second.proc is not None
        try:
            code = second.proc.wait(120)
        finally:
            second.stop()
    log = second.log()
    assert code == 3, log
    assert "Traceback" not in log, log
    last = log.rstrip().splitlines()[-1]  # the error is the last line, nothing after it
    assert last.startswith("agent-monitor: error: cannot listen for "), log
    assert f"127.0.0.1:{busy}: the port is in use by another process" in last and setting in last, log


def test_the_server_runs_on_jemalloc_with_huge_pages_where_the_kernel_has_them(server: ServerProcess) -> None:
    """``serve`` starts itself again (same PID) on jemalloc, which setup installs
    (``server.allocator = auto``), asking it for huge pages where THP is available; its loaded
    models then sit partly in huge pages."""
    from agent_monitor.allocator import JEMALLOC_THP, find_jemalloc, thp_mode

    assert server.proc is not None
    jemalloc = find_jemalloc()
    assert jemalloc is not None, "libjemalloc2 is installed by scripts/setup.sh"
    maps = Path(f"/proc/{server.proc.pid}/maps").read_text()
    assert "libjemalloc" in maps
    environ = Path(f"/proc/{server.proc.pid}/environ").read_bytes().split(b"\0")
    conf = [e for e in environ if e.startswith(b"MALLOC_CONF=")]
    if thp_mode() in ("always", "madvise"):
        assert conf and JEMALLOC_THP.encode() in conf[0], environ
        rollup = Path(f"/proc/{server.proc.pid}/smaps_rollup").read_text()
        huge_kb = int(re.search(r"AnonHugePages:\s+(\d+) kB", rollup).group(1))  # type: ignore[union-attr]
        assert huge_kb >= 64 * 1024, rollup
    else:
        assert not conf


def test_websockets_are_not_compressed(server: ServerProcess) -> None:
    """A client offering per-message deflate (the websockets library does by default) gets plain
    frames: compressing telephone audio costs the event loop and gains nothing."""

    async def extensions() -> str | None:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with connect(server.ws + "/ws/ingest", additional_headers=headers) as ws:
            assert "permessage-deflate" in str(ws.request.headers.get("Sec-WebSocket-Extensions"))  # type: ignore[union-attr]
            return ws.response.headers.get("Sec-WebSocket-Extensions")  # type: ignore[union-attr]

    assert asyncio.run(extensions()) is None
