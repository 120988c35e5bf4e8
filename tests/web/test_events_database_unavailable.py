"""The events websocket while the database is not available (here: every connection of the
process's one-connection pool held): a supervisor's first event, for which the team must be read,
waits and arrives once a connection is free, the socket open; an admin's events need no lookup and
arrive at once; a socket opened meanwhile, whose session cannot be read, is closed with 1013 (try
again later) and the reason (the error handler, made for requests, failed on it). Before, the
lookup's error ended the socket with a server error, and every later event on it (alerts too) was
lost. A supervisor's team, once read, is not waited for again: it stands while the database is
away. A real application (real Vosk model, SQLite), in-process or on a real uvicorn server."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from starlette.websockets import WebSocketDisconnect
from websockets.sync.client import ClientConnection, connect

from agent_monitor.model.events import AlertRaised, CallStarted
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.roles import Role
from agent_monitor.model.session import CallInfo, LevelReason
from agent_monitor.settings import DatabaseSettings, Settings
from agent_monitor.storage import repo
from tests.web.auth_support import add_users, app_settings, running, sign_in
from tests.web.ui_support import login
from tests.web.wall_support import Floor, Server, add_user, wall_settings
from web.errors import DATABASE_UNAVAILABLE

ONE = DatabaseSettings(pool_size=1, max_overflow=0, pool_timeout_s=2.0)
RECHECK_S = 0.5


def test_live_events_wait_for_the_database_and_the_socket_stays_open(
    tmp_path: Path, base_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    settings = app_settings(base_settings, tmp_path / "data").model_copy(update={"database": ONE})
    with running(settings) as client:
        add_users(client)
        origin = {"Origin": "http://testserver"}
        supervisor, admin = sign_in(client, "sup_red"), sign_in(client, "admin1")
        services = client.app.state.services  # type: ignore[attr-defined]
        with (
            client.websocket_connect("/ws/events", headers={**supervisor.headers(), **origin}) as sup,
            client.websocket_connect("/ws/events", headers={**admin.headers(), **origin}) as adm,
        ):
            assert sup.receive_json()["type"] == adm.receive_json()["type"] == "subscribed"
            held = services.db.engine.connect()  # the pool's only connection
            try:
                started = CallStarted(call_id="db-away", t=0.0, info=CallInfo("db-away", "A-ONE"))
                client.portal.call(services.bus.publish, started)  # type: ignore[union-attr]
                assert adm.receive_json()["call_id"] == "db-away"  # no lookup: at once
                deadline = time.monotonic() + 10
                while not any("wait for the database" in r.getMessage() for r in caplog.records):
                    assert time.monotonic() < deadline, "the supervisor's lookup did not wait"
                    time.sleep(0.05)
                refused = {**supervisor.headers(), **origin}  # a new socket: its session cannot be read
                with (
                    pytest.raises(WebSocketDisconnect) as closed,
                    client.websocket_connect("/ws/events", headers=refused),
                ):
                    pass
                assert (closed.value.code, closed.value.reason) == (1013, DATABASE_UNAVAILABLE)
            finally:
                held.close()
            got = sup.receive_json()  # A-ONE is on red-team: the supervisor's, after the wait
            assert (got["type"], got["call_id"]) == ("call_started", "db-away"), got
    said = [r for r in caplog.records if "wait for the database" in r.getMessage()]
    assert len(said) == 1 and said[0].levelno == logging.WARNING, said
    assert "live events of sup_red wait for the database: QueuePool limit" in said[0].getMessage()


def test_a_lookup_stops_waiting_once_its_client_has_left(
    tmp_path: Path, base_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """The supervisor's client leaves while its event waits for the database: the lookup stops
    trying within one retry, the database still away (it went on until the database answered, a
    lookup in a thread every 5 s, each holding one of the process's threads up to the pool's
    timeout, for every client that had left). A real uvicorn server: the test client cancels the
    application when its socket closes, which a server does not."""
    caplog.set_level(logging.INFO, logger="web.events")
    settings = wall_settings(base_settings, tmp_path / "data", None).model_copy(update={"database": ONE})
    server = Server(settings).start()
    try:
        db = server.services.db
        add_user(db, "sup_red", Role.SUPERVISOR, team="red-team")
        with db.session() as s:
            repo.ensure_agent(s, "A-ONE", team="red-team")
        with _supervisor_socket(server, "/ws/events"):
            held = db.engine.connect()  # the pool's only connection
            server.publish(CallStarted(call_id="left", t=0.0, info=CallInfo("left", "A-ONE")))
            _wait_for(caplog, "wait for the database")
        try:  # the client has left; the database is still away
            _wait_for(caplog, "events client left while an event waited for the database")
        finally:
            held.close()
    finally:
        server.stop()


def _wait_for(caplog: pytest.LogCaptureFixture, words: str, within_s: float = 15.0) -> None:
    deadline = time.monotonic() + within_s
    while not any(words in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, f"never logged: {words}"
        time.sleep(0.05)


def test_a_supervisors_team_as_last_read_stands_while_the_database_is_away(
    tmp_path: Path, base_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """A supervisor's socket has read its team; the database goes away (the pool's only connection
    held) and the team's re-check time passes: a live call's red alert arrives within 1.5 s all
    the same, and so does the start of a new call of another agent of the team, never seen by the
    socket (each waited for the database, and every later event of the socket behind it). The
    re-check, tried again beside the events, lands once the database is back: the agent moved
    meanwhile to another team, their next alert is no longer this supervisor's. A real uvicorn
    server (the test client has no timeout to receive with)."""
    settings = wall_settings(base_settings, tmp_path / "data", None)
    web = settings.web.model_copy(update={"session_recheck_s": RECHECK_S})
    server = Server(settings.model_copy(update={"database": ONE, "web": web})).start()
    try:
        db, floor = server.services.db, Floor(server)
        add_user(db, "sup_red", Role.SUPERVISOR, team="red-team")
        with db.session() as s:
            repo.ensure_agent(s, "A-TWO", team="red-team")
        with _supervisor_socket(server, "/ws/events?types=call_started,alert_raised") as ws:
            call = floor.start_live("watched", "A-ONE", team="red-team")
            assert json.loads(ws.recv(timeout=10))["call_id"] == "watched"  # the team read
            held = db.engine.connect()  # the pool's only connection
            try:
                time.sleep(RECHECK_S + 0.2)
                server.publish(_red_alert("watched", "A-ONE", "first"))
                got = json.loads(ws.recv(timeout=1.5))  # before: waited for the database
                assert (got["type"], got["reasons"][0]["text"]) == ("alert_raised", "first"), got
                server.publish(CallStarted(call_id="new", t=0.0, info=CallInfo("new", "A-TWO")))
                got = json.loads(ws.recv(timeout=1.5))  # A-TWO never seen: waited too
                assert (got["type"], got["call_id"]) == ("call_started", "new"), got
                _wait_for(caplog, "live events of sup_red go on with the team as last read: QueuePool limit")
            finally:
                held.close()
            with db.session() as s:
                repo.set_agent_team(s, "A-ONE", "blue-team")
            time.sleep(RECHECK_S + 3.0)  # the re-check, tried again, has reached the database
            server.publish(_red_alert("watched", "A-ONE", "moved"))
            floor.start_live("marker", "A-TWO")
            got = json.loads(ws.recv(timeout=10))
            assert (got["type"], got["call_id"]) == ("call_started", "marker"), got
        floor.end_live(call)
    finally:
        server.stop()


def test_a_calls_end_reaches_a_supervisor_while_the_database_is_away(
    tmp_path: Path, base_settings: Settings
) -> None:
    """Two live calls of the supervisor's team on the wall; the database goes away (the pool's only
    connection held) and one of them ends: its ``call_ended`` reaches the supervisor within 1.5 s,
    and the other call's red alert after it (the end, read once the call had left the live calls,
    waited for the call's stored row, and every later event of the socket behind it). A real
    uvicorn server."""
    settings = wall_settings(base_settings, tmp_path / "data", None)
    server = Server(settings.model_copy(update={"database": ONE})).start()
    try:
        db, floor = server.services.db, Floor(server)
        add_user(db, "sup_red", Role.SUPERVISOR, team="red-team")
        with _supervisor_socket(server, "/ws/events?types=call_started,call_ended,alert_raised") as ws:
            ending = floor.start_live("ending", "A-ONE", team="red-team")
            going_on = floor.start_live("going-on", "A-TWO", team="red-team")
            assert [json.loads(ws.recv(timeout=10))["call_id"] for _ in range(2)] == ["ending", "going-on"]
            held = db.engine.connect()  # the pool's only connection
            try:
                floor.end_live(ending)  # its writes wait in its journal
                got = json.loads(ws.recv(timeout=1.5))  # before: waited for the database
                assert (got["type"], got["call_id"]) == ("call_ended", "ending"), got
                server.publish(_red_alert("going-on", "A-TWO", "after the end"))
                got = json.loads(ws.recv(timeout=1.5))
                assert (got["type"], got["call_id"]) == ("alert_raised", "going-on"), got
            finally:
                held.close()
        floor.end_live(going_on)
    finally:
        server.stop()


@contextmanager
def _supervisor_socket(server: Server, path: str) -> Iterator[ClientConnection]:
    """``sup_red`` signed in on ``server``, its events socket at ``path`` open and subscribed."""
    with httpx.Client(base_url=server.url) as c:
        login(c, "sup_red")
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in c.cookies.items()), "Origin": server.url}
    with connect(server.url.replace("http", "ws", 1) + path, additional_headers=headers) as ws:
        assert json.loads(ws.recv(timeout=10)) == {"type": "subscribed"}
        yield ws


def _red_alert(call_id: str, agent_id: str, text: str) -> AlertRaised:
    why = (LevelReason("rule", WarningLevel.RED, text, 5.0),)
    return AlertRaised(
        call_id=call_id,
        t=5.0,
        alert_id=None,
        level=WarningLevel.RED,
        reasons=why,
        agent_id=agent_id,
        high_sensitivity=True,
        alert_key=str(uuid.uuid4()),
    )
