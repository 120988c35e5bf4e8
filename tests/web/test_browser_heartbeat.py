"""A server that hangs with its sockets open (SIGSTOP on a real ``agent-monitor serve`` process:
the kernel keeps the TCP connections, nothing closes them): the wall and the agent's cue notice it
by the missing heartbeat of ``/ws/ui/live``, say they are not live, and are live again by
themselves after SIGCONT. Debian Chromium through Playwright. Screenshots:
``artifacts/screens/wall/`` and ``artifacts/screens/cue/``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from tests.web.browser_support import signed_in_page
from tests.web.server_process import REPO, ServerProcess
from tests.web.ui_support import PASSWORD, login

HEARTBEAT_S = 1.0
SCREENS = Path(__file__).resolve().parents[2] / "artifacts" / "screens"


def _add_user(server: ServerProcess, name: str, *options: str) -> None:
    added = subprocess.run(
        [sys.executable, "-m", "agent_monitor", "users", "add", name, *options, "--password-stdin"],
        input=PASSWORD + "\n",
        env=server.env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert added.returncode == 0, added.stderr


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(
        tmp_path_factory.mktemp("heartbeat") / "data",
        extra_env={"AGENT_MONITOR_WEB__LIVE_HEARTBEAT_S": str(HEARTBEAT_S)},
    )
    _add_user(proc, "sam", "--role", "supervisor", "--team", "east")
    _add_user(proc, "alice", "--role", "agent", "--agent-id", "A-9", "--team", "east")
    proc.start()
    try:
        yield proc
    finally:
        assert proc.proc is not None
        os.kill(proc.proc.pid, signal.SIGCONT)  # never leave a stopped process behind
        proc.stop()


def test_the_live_socket_names_its_heartbeat_and_pings(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.url) as c:
        login(c, "sam")
        cookie = "; ".join(f"{k}={v}" for k, v in c.cookies.items())
    headers = {"Cookie": cookie, "Origin": server.url}
    with connect(server.ws + "/ws/ui/live", additional_headers=headers) as ws:
        assert json.loads(ws.recv(timeout=10)) == {"type": "subscribed", "heartbeat_s": HEARTBEAT_S}
        assert json.loads(ws.recv(timeout=5)) == {"type": "ping"}
        t0 = time.monotonic()
        assert json.loads(ws.recv(timeout=5)) == {"type": "ping"}
        assert 0.5 * HEARTBEAT_S <= time.monotonic() - t0 <= 2 * HEARTBEAT_S
    # the API's /ws/events sends events only (its clients never see a ping)
    with connect(server.ws + "/ws/events", additional_headers=headers) as ws:
        assert json.loads(ws.recv(timeout=10)) == {"type": "subscribed"}
        with pytest.raises(TimeoutError):
            ws.recv(timeout=3 * HEARTBEAT_S)


def _shot(page: Any, folder: str, name: str) -> None:
    (SCREENS / folder).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / folder / f"{name}.png"), full_page=True)


def test_a_hung_server_is_noticed_by_the_wall_and_the_cue(server: ServerProcess, browser: Any) -> None:
    assert server.proc is not None
    sam = signed_in_page(browser, server.url, "sam", "/supervisor")
    alice = signed_in_page(browser, server.url, "alice", "/agent")
    for page in (sam, alice):
        page.wait_for_selector("body[data-live='1']", timeout=15_000)
        assert page.locator("#conn-banner").is_hidden()
    # a healthy but quiet server: the pings keep both pages live for many heartbeats
    time.sleep(4 * HEARTBEAT_S)
    for page in (sam, alice):
        assert page.get_attribute("body", "data-live") == "1"
    os.kill(server.proc.pid, signal.SIGSTOP)
    try:
        stopped = time.monotonic()
        for page in (sam, alice):
            page.wait_for_selector("#conn-banner:visible", timeout=15_000)
        noticed = time.monotonic() - stopped
        assert noticed < 2.5 * HEARTBEAT_S + 5, noticed
        assert "not live" in sam.locator("#conn-banner").inner_text()
        assert "not live" in alice.locator("#conn-banner").inner_text()
        assert sam.evaluate("() => document.body.classList.contains('stale')")
        _shot(sam, "wall", "hung-server-wall")
        _shot(alice, "cue", "hung-server-cue")
        time.sleep(3 * HEARTBEAT_S)  # still hung: still not live (no false recovery)
        for page in (sam, alice):
            assert page.get_attribute("body", "data-live") == "0"
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)
    for page in (sam, alice):
        page.wait_for_selector("body[data-live='1']", timeout=40_000)
        assert page.locator("#conn-banner").is_hidden()
        assert "/login" not in page.url
        assert page.errors == [], page.errors
