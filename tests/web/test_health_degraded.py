"""Issue #15 item 2: ``/healthz`` says ``degraded: database`` while the live writes cannot reach the
database (here: another connection holds the SQLite write lock), and ``ok`` again once they can."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from starlette.testclient import TestClient

from agent_monitor.model.audio import Leg
from agent_monitor.model.session import CallInfo
from agent_monitor.pipeline import records
from agent_monitor.settings import Settings
from tests.web.auth_support import app_settings, running


def _health(client: TestClient) -> dict[str, object]:
    response = client.get("/healthz")
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


def test_healthz_reports_a_database_that_takes_no_writes(tmp_path: Path, base_settings: Settings) -> None:
    settings = app_settings(base_settings, tmp_path / "data")
    live = settings.live.model_copy(
        update={
            "outbox": settings.live.outbox.model_copy(update={"stall_after_s": 0.5, "spill_after_s": 1.0})
        }
    )
    settings = settings.model_copy(update={"live": live})
    with running(settings) as client:
        assert _health(client)["status"] == "ok" and _health(client)["ok"] is True
        manager = client.app.state.services.manager  # type: ignore[attr-defined]
        info = CallInfo(call_id="h-1", agent_id="A-1", sample_rate=8000, started_at=datetime.now(UTC))
        session = client.portal.call(manager.start_call, info)  # type: ignore[union-attr]
        lock = sqlite3.connect(settings.data_dir / "agent-monitor.db", isolation_level=None)
        try:
            lock.execute("BEGIN IMMEDIATE")

            async def write() -> None:
                session.store.submit(records.recording_progress("h-1", Leg.AGENT, 1600))

            client.portal.call(write)  # type: ignore[union-attr]
            # degraded once the write has hung for stall_after_s (after the batch's linger and a
            # thread's start: waited for, not slept for, so a loaded machine is no failure)
            deadline = time.monotonic() + 10
            while (health := _health(client))["ok"] is not False:
                assert time.monotonic() < deadline, health
                time.sleep(0.1)
            assert health["ok"] is False and health["status"] == "degraded: database", health
            assert health["degraded"] == ["database"]
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        deadline = time.monotonic() + 20
        while _health(client)["ok"] is not True:
            assert time.monotonic() < deadline, _health(client)
            time.sleep(0.1)
        client.portal.call(session.stop, "stop")  # type: ignore[union-attr]
        assert _health(client)["status"] == "ok"
