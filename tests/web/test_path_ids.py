"""A row id in a request's path is read only in its canonical decimal form (real application, real
SQLite database, the real Vosk model).

The path's alert and form ids were read as pydantic's lax integers: ``POST /api/alerts/1_0/
acknowledge`` acknowledged alert 10, ``/api/alerts/01/...`` or ``/api/alerts/1.0/...`` alert 1, and
``GET /api/qa/forms/+1`` form 1: an address that names no alert acted on one. Each is now a 422
naming the value, and nothing is changed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from agent_monitor.settings import Settings
from agent_monitor.storage import AlertState, WarningLevel, repo
from tests.web.auth_support import add_users, app_settings, running, sign_in

NOT_CANONICAL = ["01", "1.0", "+1", "%201", "1_0", "%D9%A1", "1e0"]


def _alerts(client: TestClient, n: int) -> list[int]:
    services = client.app.state.services  # type: ignore[attr-defined]
    with services.db.session() as s:
        repo.ensure_agent(s, "A-ONE", team="red-team")
        repo.start_call(s, "path-ids-1", "A-ONE", source_protocol="ws-ingest")
        reasons = [{"kind": "rule", "rule": "abuse.insult", "text": "insult", "t": 1.0}]
        ids = [
            repo.raise_alert(s, "path-ids-1", WarningLevel.RED, reasons, raised_at_s=float(i)).id
            for i in range(n)
        ]
    return ids


def _open(client: TestClient) -> set[int]:
    services = client.app.state.services  # type: ignore[attr-defined]
    with services.db.session() as s:
        return {a.id for a in repo.list_alerts(s, call_id="path-ids-1") if a.state is AlertState.RAISED}


@pytest.fixture
def client(base_settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    with running(app_settings(base_settings, tmp_path)) as client:
        add_users(client)
        yield client


@pytest.mark.parametrize("written", NOT_CANONICAL)
def test_an_alert_id_not_in_plain_digits_acts_on_no_alert(client: TestClient, written: str) -> None:
    ids = _alerts(client, 10)
    assert ids == list(range(1, 11))
    admin = sign_in(client, "admin1")
    for action in ("acknowledge", "resolve", "take_over"):
        r = client.post(f"/api/alerts/{written}/{action}", json={"note": "x"}, headers=admin.headers())
        assert r.status_code == 422, (action, r.status_code, r.text)
        assert "is not an id: write it in plain decimal digits" in r.text
    assert _open(client) == set(ids)  # nothing acknowledged, resolved or taken over
    ok = client.post("/api/alerts/10/acknowledge", json={"note": "x"}, headers=admin.headers())
    assert ok.status_code == 200, ok.text
    assert _open(client) == set(ids) - {10}


@pytest.mark.parametrize("written", NOT_CANONICAL)
def test_a_form_id_not_in_plain_digits_names_no_form(client: TestClient, written: str) -> None:
    qa = sign_in(client, "qa1")
    assert client.get("/api/qa/forms", headers=qa.headers()).status_code == 200
    assert client.get("/api/qa/forms/1", headers=qa.headers()).status_code == 200
    r = client.get(f"/api/qa/forms/{written}", headers=qa.headers())
    assert r.status_code == 422 and "is not an id" in r.text, r.text
