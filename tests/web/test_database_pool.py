"""A request that waits ``database.pool_timeout_s`` for a connection while every connection of the
process's pool is busy gets 503 with a reason (it was a 500 and a traceback); a server on
PostgreSQL states at its start how many connections it may open and the room the server has."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from agent_monitor.settings import DatabaseSettings, Settings
from tests.web.auth_support import PASSWORD, add_users, app_settings, running
from tests.web.backend_support import BACKENDS, backend_database
from web.errors import DATABASE_UNAVAILABLE

ONE = DatabaseSettings(pool_size=1, max_overflow=0, pool_timeout_s=2.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_request_finding_every_connection_busy_is_a_503(
    tmp_path: Path, base_settings: Settings, backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    with backend_database(backend, "the pool tests") as url:
        settings = app_settings(base_settings, tmp_path / "data").model_copy(
            update={"database_url": url, "database": ONE}
        )
        with running(settings) as client:
            add_users(client)
            page = client.get("/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert csrf is not None, page.text
            held = client.app.state.services.db.engine.connect()  # type: ignore[attr-defined]
            try:
                r = client.post("/api/auth/login", json={"username": "admin1", "password": PASSWORD})
                assert r.status_code == 503 and r.json() == {"detail": DATABASE_UNAVAILABLE}, r.text
                assert r.headers["retry-after"] == "5"
                form = {"username": "admin1", "password": PASSWORD, "csrf": csrf.group(1)}
                r = client.post("/login", data=form, headers={"accept": "text/html"}, follow_redirects=False)
                assert r.status_code == 503 and DATABASE_UNAVAILABLE in r.text, r.text
            finally:
                held.close()
            r = client.post("/api/auth/login", json={"username": "admin1", "password": PASSWORD})
            assert r.status_code == 200, r.text  # a connection is free again
    said = [r.getMessage() for r in caplog.records if "stayed busy" in r.getMessage()]
    assert said and "size 1 overflow 0" in said[0] and "database.pool_size" in said[0], said


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_server_says_its_connections_against_postgresql_room(
    tmp_path: Path, base_settings: Settings, backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="web.app")
    with backend_database(backend, "the pool tests") as url:
        settings = app_settings(base_settings, tmp_path / "data").model_copy(update={"database_url": url})
        with running(settings) as client:
            assert client.get("/healthz").status_code == 200
    said = [r for r in caplog.records if r.getMessage().startswith("database: ")]
    if backend == "sqlite":
        assert said == []
        return
    assert len(said) == 1 and said[0].levelno == logging.INFO, said
    message = said[0].getMessage()
    most = settings.database.max_connections(settings.live.outbox.writer_threads)
    assert f"at most {most} database connections" in message, message
    assert f"named 'agent-monitor {settings.node_id}' in pg_stat_activity" in message, message
    assert re.search(r"PostgreSQL allows \d+ \(\d+ reserved\), \d+ others open now: room for \d+", message)
