"""The evidence export refuses (409) a call whose stored rows were changed behind the application's
back, on a real server over SQLite and PostgreSQL: a transcript word, a rule hit, the call's level,
an alert, an alert's state or hand-off, stress readings. Before, only a modified recording file or
QA review was refused, and a package of altered rows went out with ``SHA256SUMS`` matching them."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.model.levels import WarningLevel
from agent_monitor.settings import Settings
from agent_monitor.storage import repo
from tests.web.backend_support import BACKENDS, ui_server_on
from tests.web.ui_support import add_call, login

_ALERTS = "(SELECT id FROM alerts WHERE call_id = :c)"
#: what a person with write access to the database might change, by name
TAMPERING = {
    "word": "UPDATE words SET text = 'kind' WHERE utterance_id IN"
    " (SELECT id FROM utterances WHERE call_id = :c AND utterance_no = 2)",
    "utterance": "UPDATE utterances SET text = 'have a nice day' WHERE call_id = :c AND utterance_no = 2",
    "rule_hit": "UPDATE rule_hits SET evidence = 'nothing' WHERE call_id = :c",
    "rule_hit_deleted": "DELETE FROM rule_hits WHERE call_id = :c",
    "call_level": "UPDATE calls SET final_level = 'yellow' WHERE id = :c",
    "alert_reasons": "UPDATE alerts SET reasons = '[]' WHERE call_id = :c",
    "alert_state": "UPDATE alerts SET state = 'resolved' WHERE call_id = :c",
    "handoff_deleted": f"DELETE FROM handoffs WHERE alert_id IN {_ALERTS}",
    "alert_events_deleted": f"DELETE FROM alert_events WHERE alert_id IN {_ALERTS}",
    "stress": "UPDATE stress_samples SET score = 1 WHERE call_id = :c",
    "recording_unsealed": "UPDATE recordings SET sha256 = NULL, closed_at = NULL WHERE call_id = :c",
}


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    base_settings: Settings,
    real_call: CallAudio,
) -> Iterator[tuple[str, Any, Path, CallAudio]]:
    root = tmp_path_factory.mktemp("export-integrity")
    with ui_server_on(request.param, base_settings, root) as (url, app):
        yield url, app, root / "data", real_call.excerpt(0.0, 3.0)


def _exports(app: Any, call_id: str) -> int:
    with app.state.services.db.session() as s:
        return len(repo.list_audit(s, action="evidence_export", object_type="call", object_id=call_id))


@pytest.mark.parametrize("change", sorted(TAMPERING))
def test_an_export_of_rows_changed_in_the_database_is_refused(
    server: tuple[str, Any, Path, CallAudio], change: str
) -> None:
    url, app, data, clip = server
    call_id = f"tampered-{change}"
    add_call(app.state.services.db, data, call_id, "A-1", clip, WarningLevel.RED)
    with httpx.Client(base_url=url, timeout=60) as client:
        login(client, "admin1")
        assert client.get(f"/api/calls/{call_id}/export.zip").status_code == 200
        with app.state.services.db.engine.begin() as conn:
            assert conn.execute(text(TAMPERING[change]), {"c": call_id}).rowcount >= 1
        before = _exports(app, call_id)
        r = client.get(f"/api/calls/{call_id}/export.zip")
    assert r.status_code == 409, (change, r.status_code, r.text[:200])
    detail = r.json()["detail"]
    assert "does not match its seals" in detail and "db verify" in detail, detail
    assert str(data) not in detail
    assert _exports(app, call_id) == before  # a refused export is not recorded as served


def test_a_call_handled_through_the_application_exports(server: tuple[str, Any, Path, CallAudio]) -> None:
    """No false alarm: an alert acknowledged, taken over (while its call is live) and resolved, and
    a finished review, export."""
    url, app, data, clip = server
    db = app.state.services.db
    add_call(db, data, "handled-1", "A-1", clip, WarningLevel.RED, ended=False)
    with db.session() as s:
        [alert] = repo.list_alerts(s, call_id="handled-1")
    with httpx.Client(base_url=url, timeout=60) as client:
        csrf = login(client, "admin1")
        for action in ("acknowledge", "take_over", "resolve"):
            done = client.post(f"/api/alerts/{alert.id}/{action}", json={}, headers=csrf)
            assert done.status_code == 200, (action, done.text)
            if action == "take_over":  # the call ends after the take-over, before the resolution
                with db.session() as s:
                    repo.end_call(s, "handled-1")
        r = client.get("/api/calls/handled-1/export.zip")
    assert r.status_code == 200, r.text
    assert "handled-1/SHA256SUMS" in zipfile.ZipFile(io.BytesIO(r.content)).namelist()
