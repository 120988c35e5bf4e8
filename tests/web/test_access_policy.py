"""One access policy for every view: each user sees the same calls in the REST list, the REST call
detail, the review page, ``/ws/events`` and ``/ws/ui/live``, on SQLite and on PostgreSQL.

Real application on uvicorn (real Vosk model, real database), calls stored through the repository
(ended, aborted, unflagged, older than a supervisor's week, an agent without a team) plus one live
call started in the real call manager. The finished calls' ``call_ended`` / ``qa_queued`` events
are published on the live bus by the test, as the pipeline publishes them when a call ends; the
live call's ``call_started`` comes from the call manager itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from agent_monitor.accounts.passwords import hash_password
from agent_monitor.compose import create_app
from agent_monitor.model.events import CallEnded, Event, QaQueued
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.session import CallInfo
from agent_monitor.settings import Settings
from agent_monitor.storage import CallStatus, repo
from tests.web.auth_support import PASSWORD, USERS, app_settings
from tests.web.backend_support import BACKENDS, backend_database

LIVE = "pol-live-a2"
#: call id -> (agent, status, level, started hours ago)
STORED: dict[str, tuple[str, CallStatus, WarningLevel, float]] = {
    "pol-a1-red": ("A-ONE", CallStatus.ENDED, WarningLevel.RED, 1),
    "pol-a2-orange": ("A-TWO", CallStatus.ENDED, WarningLevel.ORANGE, 2),
    "pol-a1-none": ("A-ONE", CallStatus.ENDED, WarningLevel.NONE, 3),
    "pol-a1-old": ("A-ONE", CallStatus.ENDED, WarningLevel.YELLOW, 8 * 24),
    "pol-lone-aborted": ("A-LONE", CallStatus.ABORTED, WarningLevel.RED, 4),
}
ALL_CALLS = {*STORED, LIVE}
#: who sees which call (written out from the policy's description, not computed by the code)
EXPECTED = {
    "agent1": {"pol-a1-red", "pol-a1-none", "pol-a1-old"},
    "agent2": {"pol-a2-orange", LIVE},
    "sup_red": {"pol-a1-red", "pol-a1-none"},
    "sup_blue": {"pol-a2-orange", LIVE},
    "qa1": {"pol-a1-red", "pol-a2-orange", "pol-a1-old", "pol-lone-aborted"},
    "admin1": ALL_CALLS,
}
ROLE = {name: role for name, role, _, _ in USERS}
#: a websocket is quiet this long after the events were published: everything has arrived
QUIET_S = 1.5


@dataclass
class Running:
    url: str
    app: Any
    loop: asyncio.AbstractEventLoop

    def run(self, coro: Any) -> Any:
        """Run ``coro`` on the server's event loop (where the bus and the call manager live)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)


@contextlib.contextmanager
def serve(settings: Settings) -> Iterator[Running]:
    app = create_app(settings)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    try:
        loop = server.servers[0].get_loop()
        yield Running(f"http://127.0.0.1:{sock.getsockname()[1]}", app, loop)
    finally:
        server.should_exit = True
        thread.join(60)
        sock.close()


def store_world(db: Any) -> None:
    now = datetime.now(UTC)
    digest = hash_password(PASSWORD)
    with db.session() as s:
        repo.ensure_agent(s, "A-ONE", team="red-team")
        repo.ensure_agent(s, "A-TWO", team="blue-team")
        repo.ensure_agent(s, "A-LONE", team=None)
        for username, role, agent_id, team in USERS:
            repo.create_user(s, username, digest, role, agent_id=agent_id, team=team)
        for call_id, (agent, status, level, hours) in STORED.items():
            started = now - timedelta(hours=hours)
            repo.start_call(s, call_id, agent, source_protocol="ws-ingest", started_at=started)
            if level is not WarningLevel.NONE:
                repo.raise_call_level(s, call_id, level)
            repo.end_call(s, call_id, ended_at=started + timedelta(minutes=5), status=status)


def finished_events() -> list[Event]:
    """What the pipeline publishes when each stored call ends (and is queued for QA when flagged)."""
    events: list[Event] = []
    for call_id, (_, status, level, _) in STORED.items():
        warning = WarningLevel(level.value)
        events.append(CallEnded(call_id, 300.0, status.value, "stop", warning, 300.0))
        if level is not WarningLevel.NONE:
            events.append(QaQueued(call_id, 300.0, warning, "flagged"))
    return events


def cookie_of(url: str, username: str) -> str:
    r = httpx.post(url + "/api/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return f"am_session={r.cookies['am_session']}"


class Listener:
    """Collects the call ids of the events one websocket receives."""

    def __init__(self, url: str, cookie: str) -> None:
        self.url, self.cookie = url, cookie
        self.calls: set[str] = set()
        self.close_code: int | None = None
        self.subscribed = asyncio.Event()
        self.last = time.monotonic()

    async def run(self) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidStatus

        try:
            async with connect(self.url, additional_headers={"Cookie": self.cookie}) as ws:
                async for message in ws:
                    data = json.loads(message)
                    self.last = time.monotonic()
                    if data["type"] == "subscribed":
                        self.subscribed.set()
                    elif data["type"] != "ping":  # /ws/ui/live's heartbeat names no call
                        self.calls.add(data["call_id"])
        except ConnectionClosed as exc:
            self.close_code = exc.rcvd.code if exc.rcvd else 1006
        except InvalidStatus as exc:  # refused before the handshake completed
            self.close_code = exc.response.status_code
        finally:
            self.subscribed.set()


async def websocket_views(running: Running, cookies: dict[str, str]) -> dict[str, dict[str, Listener]]:
    ws = running.url.replace("http://", "ws://")
    views = {
        user: {path: Listener(ws + path, cookie) for path in ("/ws/events", "/ws/ui/live")}
        for user, cookie in cookies.items()
    }
    listeners = [x for per_user in views.values() for x in per_user.values()]
    tasks = [asyncio.create_task(x.run()) for x in listeners]
    await asyncio.wait_for(asyncio.gather(*(x.subscribed.wait() for x in listeners)), 30)
    services = running.app.state.services
    live = CallInfo(call_id=LIVE, agent_id="A-TWO")
    await asyncio.to_thread(running.run, services.manager.start_call(live))
    for event in finished_events():
        await asyncio.to_thread(running.run, services.bus.publish(event))
    published = time.monotonic()
    while time.monotonic() - max(published, *(x.last for x in listeners)) < QUIET_S:
        await asyncio.sleep(0.1)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return views


def rest_views(url: str, cookie: str, role: str) -> dict[str, set[str]]:
    with httpx.Client(base_url=url, headers={"Cookie": cookie}) as http:
        listed = http.get("/api/calls", params={"limit": 500})
        assert listed.status_code == 200, listed.text
        details = {c: http.get(f"/api/calls/{c}").status_code for c in sorted(ALL_CALLS)}
        assert set(details.values()) <= {200, 404}, details
        views = {
            "REST list": {c["call_id"] for c in listed.json()["calls"]},
            "REST detail": {c for c, status in details.items() if status == 200},
        }
        if role in ("qa", "supervisor", "admin"):  # the review page's roles
            pages = {c: http.get(f"/qa/calls/{c}").status_code for c in sorted(ALL_CALLS)}
            assert set(pages.values()) <= {200, 404}, pages
            views["review page"] = {c for c, status in pages.items() if status == 200}
    return views


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_user_sees_the_same_calls_in_every_view(
    backend: str, tmp_path: Path, base_settings: Settings
) -> None:
    with contextlib.ExitStack() as stack:
        settings = app_settings(base_settings, tmp_path / "data")
        url = stack.enter_context(backend_database(backend, "the access policy tests"))
        if url is not None:
            settings = settings.model_copy(update={"database_url": url})
        running = stack.enter_context(serve(settings))
        store_world(running.app.state.services.db)
        cookies = {user: cookie_of(running.url, user) for user in EXPECTED}
        sockets = asyncio.run(websocket_views(running, cookies))
        for user, expected in EXPECTED.items():
            views = rest_views(running.url, cookies[user], ROLE[user])
            views["/ws/events"] = sockets[user]["/ws/events"].calls
            ui_live = sockets[user]["/ws/ui/live"]
            if ROLE[user] == "qa":  # QA does not watch calls live: the page socket refuses it
                assert ui_live.close_code == 403 and not ui_live.calls, (user, ui_live.close_code)
            else:
                views["/ws/ui/live"] = ui_live.calls
            for view, seen in views.items():
                assert seen == expected, f"{backend}: {user} in {view}: {sorted(seen)} != {sorted(expected)}"
