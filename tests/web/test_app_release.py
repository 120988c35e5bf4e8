"""An app that has shut down leaves nothing of itself alive in the process.

FastAPI keeps the callables of routes and dependencies in process-wide caches (4,096 entries), so
a route made as a closure over the app kept every app, with its speech models and rule sets,
alive: about 290 MiB per app, which a test process making hundreds of apps could not hold (the
whole suite was killed for memory at 21 GiB). Checked on a real app, served by TestClient with its
lifespan (start, a signed-in request to the API documentation, shutdown)."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

from fastapi.testclient import TestClient

from agent_monitor.accounts.passwords import hash_password
from agent_monitor.compose import create_app
from agent_monitor.model.roles import Role
from agent_monitor.settings import Settings
from agent_monitor.storage import repo


def _serve_once(settings: Settings) -> weakref.ref[object]:
    app = create_app(settings)
    with TestClient(app) as client:
        with app.state.services.db.session() as s:
            repo.create_user(s, "doc-reader", hash_password("doc reader password"), Role.ADMIN)
        signed_in = client.post(
            "/api/auth/login", json={"username": "doc-reader", "password": "doc reader password"}
        )
        assert signed_in.status_code == 200, signed_in.text
        assert client.get("/openapi.json").status_code == 200
        assert client.get("/api-docs").status_code == 200
    return weakref.ref(app.state.services)


def test_an_app_that_has_shut_down_is_freed(settings: Settings, tmp_path: Path) -> None:
    first = _serve_once(settings)
    second = _serve_once(settings.model_copy(update={"data_dir": tmp_path / "second"}))
    gc.collect()
    assert first() is None, "the first app's services are still referenced after shutdown"
    assert second() is None, "the second app's services are still referenced after shutdown"
