"""Issue #15 item 8: a logged-out cookie stays dead after a restart, and an open websocket stops
streaming to a user who logged out or was deactivated (real application, real SQLite database)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from agent_monitor.model.audio import Leg
from agent_monitor.model.events import AudioDropped
from agent_monitor.model.roles import Role
from agent_monitor.settings import Settings
from agent_monitor.storage import repo
from tests.web.auth_support import USERS, add_users, app_settings, running, sign_in

RECHECK_S = 0.5
WATCHER = ("watcher", Role.ADMIN, None, None)


def _publish(client: TestClient) -> None:
    """Put an event every admin may see on the bus (on the application's event loop)."""
    event = AudioDropped(call_id="any-call", t=1.0, leg=Leg.AGENT, chunks=1, seconds=0.1)
    client.portal.call(client.app.state.services.bus.publish, event)  # type: ignore[attr-defined, union-attr]


def _closed_for_good(client: TestClient, ws: object) -> int:
    """After the session ended: the next event must not arrive; the socket is closed instead."""
    time.sleep(RECHECK_S * 3)
    _publish(client)
    with pytest.raises(WebSocketDisconnect) as closed:
        while True:
            message = ws.receive_json()  # type: ignore[attr-defined]
            assert message["type"] != "audio_dropped", "an event reached a user whose session ended"
    return closed.value.code


def test_logout_survives_a_restart(tmp_path: Path, base_settings: Settings) -> None:
    settings = app_settings(base_settings, tmp_path / "data", session_recheck_s=RECHECK_S)
    with running(settings) as client:
        add_users(client)
        kept = sign_in(client, "qa1")
        gone = sign_in(client, "qa1")
        assert client.post("/api/auth/logout", headers=gone.headers()).status_code == 204
        assert client.get("/api/auth/me", headers=gone.headers()).status_code == 401
    with running(settings) as client:  # a new process: same data directory, same signing key
        assert client.get("/api/auth/me", headers=gone.headers()).status_code == 401
        assert client.get("/api/auth/me", headers=kept.headers()).status_code == 200
        with client.app.state.services.db.session() as s:  # type: ignore[attr-defined]
            assert repo.session_revoked(s, "no-such-session") is False


def test_open_websockets_end_at_logout_and_deactivation(tmp_path: Path, base_settings: Settings) -> None:
    settings = app_settings(base_settings, tmp_path / "data", session_recheck_s=RECHECK_S)
    with running(settings) as client:
        add_users(client, (*USERS, WATCHER))
        admin = sign_in(client, "admin1")
        with client.websocket_connect("/ws/events", headers=admin.headers()) as ws:
            assert ws.receive_json()["type"] == "subscribed"
            _publish(client)
            assert ws.receive_json()["type"] == "audio_dropped"  # streaming while signed in
            assert client.post("/api/auth/logout", headers=admin.headers()).status_code == 204
            assert _closed_for_good(client, ws) == 1008

        watcher = sign_in(client, "watcher")
        for path in ("/ws/events", "/ws/ui/live"):
            with client.websocket_connect(path, headers=watcher.headers()) as ws:
                assert ws.receive_json()["type"] == "subscribed"
        with client.websocket_connect("/ws/events", headers=watcher.headers()) as ws:
            assert ws.receive_json()["type"] == "subscribed"
            with client.app.state.services.db.session() as s:  # type: ignore[attr-defined]
                repo.set_user_active(s, "watcher", False)  # as `agent-monitor users deactivate`
            assert _closed_for_good(client, ws) == 1008
