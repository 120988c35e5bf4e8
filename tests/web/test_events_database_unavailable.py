"""The events websocket while the database is not available (here: every connection of the
process's one-connection pool held): a supervisor's event whose agent's team must be looked up
waits and arrives once a connection is free, the socket open; an admin's events need no lookup and
arrive at once; a socket opened meanwhile, whose session cannot be read, is closed with 1013 (try
again later) and the reason (the error handler, made for requests, failed on it). Before, the
lookup's error ended the socket with a server error, and every later event on it (alerts too) was
lost. A real application (real Vosk model, SQLite) in-process."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from starlette.websockets import WebSocketDisconnect

from agent_monitor.model.events import CallStarted
from agent_monitor.model.session import CallInfo
from agent_monitor.settings import DatabaseSettings, Settings
from tests.web.auth_support import add_users, app_settings, running, sign_in
from web.errors import DATABASE_UNAVAILABLE

ONE = DatabaseSettings(pool_size=1, max_overflow=0, pool_timeout_s=2.0)


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
