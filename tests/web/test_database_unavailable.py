"""A request that fails because the database cannot be reached (here: another connection holds
the SQLite write lock past the busy timeout) is a 503 with a reason, JSON for the API and the error
page for a browser; it was a plain-text "Internal Server Error" 500 (a traceback in the log)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from agent_monitor.settings import Settings
from tests.web.auth_support import PASSWORD, add_users, app_settings, running
from web.errors import DATABASE_UNAVAILABLE


def test_a_locked_database_is_a_503_with_a_reason(
    tmp_path: Path, base_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("agent_monitor.storage.engine.SQLITE_BUSY_TIMEOUT_MS", 200)
    settings = app_settings(base_settings, tmp_path / "data")
    with running(settings) as client:
        add_users(client)
        page = client.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None, page.text
        lock = sqlite3.connect(settings.data_dir / "agent-monitor.db", isolation_level=None)
        try:
            lock.execute("BEGIN EXCLUSIVE")
            r = client.post("/api/auth/login", json={"username": "admin1", "password": PASSWORD})
            assert r.status_code == 503 and r.json() == {"detail": DATABASE_UNAVAILABLE}, r.text
            assert r.headers["retry-after"] == "5"
            form = {"username": "admin1", "password": PASSWORD, "csrf": csrf.group(1)}
            r = client.post("/login", data=form, headers={"accept": "text/html"}, follow_redirects=False)
            assert r.status_code == 503 and r.headers["content-type"].startswith("text/html"), r.text
            assert DATABASE_UNAVAILABLE in r.text and 'href="/"' in r.text, r.text
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        r = client.post("/api/auth/login", json={"username": "admin1", "password": PASSWORD})
        assert r.status_code == 200, r.text  # the database is back
