"""Helpers of the wall's browser tests: the whole application on a loopback port that can be stopped
and started again (same port), on SQLite or PostgreSQL; the test users; and a floor of calls whose
events a test fixture publishes on the server's live bus.

The published calls are **not** real calls: their rows are written through the real repository
(so scope checks, alert actions and hand-offs run for real) and their events (call started, level,
alert, hand-off, signal health, call ended) are the pipeline's own event types, published on the
server's event bus from the test. The real calls of these tests are sent as real audio through
``/ws/ingest`` (see :func:`tests.web.ui_support.replay`).
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn

from agent_monitor.accounts.passwords import hash_password
from agent_monitor.model.audio import Leg
from agent_monitor.model.events import (
    AlertRaised,
    CallEnded,
    CallStarted,
    Event,
    HandoffRequested,
    LevelChanged,
    SignalHealth,
)
from agent_monitor.model.health import HealthIssue, LegHealth
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.roles import Role
from agent_monitor.model.session import CallInfo, LevelReason
from agent_monitor.pipeline.escalation import Escalator, SystemClock
from agent_monitor.settings import Settings
from agent_monitor.storage import CallStatus, repo
from tests.web.backend_support import backend_database
from tests.web.browser_support import submit_sign_in, watch_problems
from tests.web.ui_support import PASSWORD

PG_ENV = "AGENT_MONITOR_TEST_POSTGRES_URL"


def backends() -> list[str]:
    """SQLite always; PostgreSQL when its URL is set (required on CI)."""
    found = ["sqlite"]
    if os.environ.get(PG_ENV) or os.environ.get("CI", "").lower() == "true":
        found.append("postgresql")
    return found


@contextmanager
def database(backend: str, data_dir: Path) -> Iterator[str | None]:
    """``None`` (the SQLite file under ``data_dir``) or the URL of a fresh PostgreSQL database,
    dropped afterwards (:func:`tests.web.backend_support.backend_database`)."""
    with backend_database(backend, "the wall tests") as url:
        yield url


class Server:
    """The application served by uvicorn on ``port`` in a thread with its own event loop (the tests
    publish events into that loop); :meth:`stop` and a new ``Server`` on the same port simulate a
    restart."""

    def __init__(self, settings: Settings, port: int = 0) -> None:
        from agent_monitor.compose import create_app

        self.settings = settings
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(settings)
        config = uvicorn.Config(
            self.app, log_level="warning", ws_max_size=1 << 20, timeout_graceful_shutdown=2
        )
        self.server = uvicorn.Server(config)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.server.serve(sockets=[self.sock]))

    def start(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 120
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(60)
        self.sock.close()
        if not self.thread.is_alive():
            self.loop.close()

    @property
    def services(self) -> Any:
        return self.app.state.services

    def publish(self, *events: Event) -> None:
        """Publish ``events`` on the server's live bus (from the test's thread)."""
        for event in events:
            asyncio.run_coroutine_threadsafe(self.services.bus.publish(event), self.loop).result(10)

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)


def wall_settings(base: Settings, data_dir: Path, db_url: str | None, **wall: Any) -> Settings:
    return base.model_copy(
        update={
            "data_dir": data_dir,
            "database_url": db_url,
            "server": base.server.model_copy(update={"audiosocket_port": None}),
            "wall": type(base.wall).model_validate({**base.wall.model_dump(), **wall}),
        }
    )


def add_user(
    db: Any, name: str, role: Role | str, *, agent_id: str | None = None, team: str | None = None
) -> None:
    """Add a user with the password :data:`PASSWORD`; ``role`` a :class:`Role` or its name."""
    with db.session() as s:
        repo.create_user(s, name, hash_password(PASSWORD), Role(role), agent_id=agent_id, team=team)


#: where :data:`COUNT_TONES` counts in the tab (sessionStorage: a reload keeps the count)
TONES_KEY = "am_test_tones"
#: run before the page's own scripts on every navigation of a context: counts every tone the page
#: starts (``createOscillator`` of any audio context), before and through reloads
COUNT_TONES = f"""(() => {{
  const make = BaseAudioContext.prototype.createOscillator;
  BaseAudioContext.prototype.createOscillator = function (...args) {{
    sessionStorage.setItem("{TONES_KEY}", String(Number(sessionStorage.getItem("{TONES_KEY}") || 0) + 1));
    return make.apply(this, args);
  }};
}})();"""
#: the tones of one hand-off beep (``AM.beep`` in common.js: two short tones)
TONES_PER_BEEP = 2


def beeps(page: Any) -> int:
    """The hand-off beeps ``page``'s tab started since it was signed in, reloads included."""
    tones = int(page.evaluate(f"Number(sessionStorage.getItem('{TONES_KEY}') || 0)"))
    assert tones % TONES_PER_BEEP == 0, f"{tones} tones: not whole beeps"
    return tones // TONES_PER_BEEP


def live_wall_page(browser: Any, url: str, user: str, width: int = 1400, height: int = 900) -> Any:
    """``user``'s live wall (``/supervisor``) in a new browser context, signed in through the login
    form; ``page.problems`` collects the page's JavaScript errors and console errors (a test fails
    on any; :func:`tests.web.browser_support.watch_problems`); :func:`beeps` counts its beeps."""
    context = browser.new_context(locale="en-US", viewport={"width": width, "height": height})
    context.add_init_script(COUNT_TONES)
    page = watch_problems(context.new_page())
    page.goto(url + "/supervisor")
    submit_sign_in(page, user, then=url + "/supervisor")
    page.wait_for_selector("body[data-live='1']", timeout=15_000)
    return page


@dataclass(frozen=True)
class FloorCall:
    call_id: str
    agent_id: str
    team: str | None
    level: WarningLevel


class Floor:
    """Calls whose rows are stored through the repository and whose events are published on the
    live bus by the test (see the module docstring)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.db = server.services.db

    def start(self, call_id: str, agent_id: str, team: str | None = None) -> FloorCall:
        """A live call of ``agent_id``; ``team`` given: the agent's team is set too (else the agent
        keeps whatever team the users' administration gave it)."""
        info = CallInfo(call_id=call_id, agent_id=agent_id, started_at=datetime.now(UTC))
        with self.db.session() as s:
            repo.ensure_agent(s, agent_id, team=team)
            repo.start_call(s, call_id, agent_id, source_protocol="ws-ingest", started_at=info.started_at)
        self.server.publish(CallStarted(call_id=call_id, t=0.0, info=info))
        return FloorCall(call_id, agent_id, team, WarningLevel.NONE)

    def start_live(self, call_id: str, agent_id: str, team: str | None = None) -> FloorCall:
        """A call the server holds live: a real session of its call manager (its legs wait for
        audio that never comes), so the wall's reload from ``/api/wall`` lists it (a call of
        :meth:`start` is only published: a reloaded wall counts it as ended). Alerts as :meth:`alert`."""
        with self.db.session() as s:
            repo.ensure_agent(s, agent_id, team=team)
        info = CallInfo(call_id=call_id, agent_id=agent_id, started_at=datetime.now(UTC))
        self.server.run(self.server.services.manager.start_call(info))
        return FloorCall(call_id, agent_id, team, WarningLevel.NONE)

    def end_live(self, call: FloorCall) -> None:
        """End a call of :meth:`start_live` as its caller hanging up does: stopped, gone from the
        server's live calls (``/api/wall``), ``CallEnded`` published."""
        session = self.server.services.manager.get(call.call_id)
        self.server.run(session.stop("stop"))

    def alert(self, call: FloorCall, level: WarningLevel, text_: str, t: float = 5.0) -> int:
        """An alert at ``level`` (red: with a hand-off) stored, then its events published."""
        red = level is WarningLevel.RED
        reasons = [{"kind": "rule", "level": level.value, "text": text_, "t": t}]
        with self.db.session() as s:
            alert = repo.raise_alert(s, call.call_id, level, reasons, raised_at_s=t, handoff=red)
            alert_id = alert.id
        wl = WarningLevel(level.value)
        why = (LevelReason("rule", wl, text_, t),)
        self.server.publish(
            LevelChanged(call_id=call.call_id, t=t, level=wl, previous=WarningLevel.NONE, reasons=why),
            AlertRaised(
                call_id=call.call_id,
                t=t,
                alert_id=alert_id,
                level=wl,
                reasons=why,
                agent_id=call.agent_id,
                high_sensitivity=red,
                alert_key=str(uuid.uuid4()),
            ),
        )
        if red:
            after = self.server.settings.live.escalate_after_s
            self.server.publish(
                HandoffRequested(
                    call_id=call.call_id,
                    t=t,
                    alert_id=alert_id,
                    agent_id=call.agent_id,
                    escalate_after_s=after,
                )
            )
            manager = self.server.services.manager
            started = datetime.now(UTC)
            self.server.loop.call_soon_threadsafe(
                manager.escalator.schedule, alert_id, call.call_id, call.agent_id, started
            )
        return alert_id

    def escalate(self, call: FloorCall, alert_id: int) -> None:
        """Escalate the alert's hand-off now, as its timer does when it fires (an :class:`Escalator`
        with no wait: recorded, then ``HandoffEscalated`` published), so a test need not wait out
        ``live.escalate_after_s`` nor race it."""
        services = self.server.services
        escalator = Escalator(services.db, services.bus, SystemClock(), 0.0)

        async def fire() -> None:
            escalator.schedule(alert_id, call.call_id, call.agent_id, datetime.now(UTC))
            while escalator.pending:
                await asyncio.sleep(0.01)

        self.server.run(fire())
        assert escalator.escalated == [alert_id], "the hand-off was not due (taken, or escalated before)"

    def health(self, call: FloorCall, leg: Leg, issue: HealthIssue, message: str) -> None:
        health = LegHealth(leg, issue, True, message, {"silent_s": 30.0})
        self.server.publish(SignalHealth(call_id=call.call_id, t=30.0, health=health))

    def end(self, call: FloorCall) -> None:
        with self.db.session() as s:
            repo.end_call(s, call.call_id, status=CallStatus.ENDED)
        self.server.publish(
            CallEnded(
                call_id=call.call_id,
                t=60.0,
                status="ended",
                reason="stop",
                level=WarningLevel.NONE,
                duration_s=60.0,
            )
        )
