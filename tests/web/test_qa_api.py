"""The QA-at-volume API against the real application (real SQLite database, real recordings):
scorecard forms (versions, admin only, audited), waveform peaks computed from the stored recording
and cached, assignment to a reviewer, "next in queue", and each rule hit listed once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from agent_monitor.ingest.call_audio import CallAudio, load_call_audio
from agent_monitor.model.audio import Leg
from agent_monitor.model.rules import HitStatus, RuleHit, Severity
from agent_monitor.settings import Settings
from agent_monitor.storage import WarningLevel, repo
from agent_monitor.storage.types import utcnow
from tests.web.ui_support import add_call, add_users, login, serve, ui_app


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, base_settings: Settings, eval_data: Path
) -> Iterator[tuple[str, Any, CallAudio]]:
    settings = base_settings.model_copy(
        update={
            "data_dir": tmp_path_factory.mktemp("qa-api") / "data",
            "server": base_settings.server.model_copy(update={"audiosocket_port": None}),
        }
    )
    app = ui_app(settings)
    audio = load_call_audio(eval_data / "calls" / "spokenwoz" / "MUL1011.opus", 8000).excerpt(0, 12)
    with serve(app) as url:
        db = app.state.services.db
        add_users(db)
        add_call(db, settings.data_dir, "q-1", "A-1", audio, WarningLevel.RED)
        add_call(db, settings.data_dir, "q-2", "A-2", audio, WarningLevel.YELLOW)
        with db.session() as s:  # the partial's hit of the same finding, stored before the final's
            dup = RuleHit("abuse.insult", "Insulting the debtor", "abuse", Severity.RED, Leg.AGENT, (0, 6),
                          "stupid", "r", "c", utterance=2, start=8.0, end=8.4)  # fmt: skip
            repo.save_rule_hit(s, "q-1", dup, status=HitStatus.PROVISIONAL)
        yield url, app.state.services, audio


@pytest.fixture()
def client(server: tuple[str, Any, CallAudio]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server[0]) as c:
        yield c


def test_forms_are_versioned_admin_only_and_audited(
    client: httpx.Client, server: tuple[str, Any, Any]
) -> None:
    csrf = login(client, "qa1")
    current = client.get("/api/qa/forms/current").json()
    assert (current["name"], current["version"]) == ("default", 1)
    assert [i["key"] for i in client.get("/api/qa/scorecard").json()["items"]][:2] == [
        "identification",
        "disclosure",
    ]
    form = {
        "name": "default",
        "title": "Debt collection 2027",
        "items": [*current["items"], {"key": "empathy", "en": "Empathy"}],
    }
    assert client.post("/api/qa/forms", json=form, headers=csrf).status_code == 403
    csrf = login(client, "admin1")
    saved = client.post("/api/qa/forms", json=form, headers=csrf)
    assert saved.status_code == 200 and saved.json()["version"] == 2, saved.text
    assert client.get("/api/qa/forms/current").json()["form_id"] == saved.json()["form_id"]
    assert [(f["name"], f["version"]) for f in client.get("/api/qa/forms").json()["forms"]] == [
        ("default", 1),
        ("default", 2),
    ]
    bad = client.post(
        "/api/qa/forms", json={"name": "x", "items": [{"key": "a", "en": "A", "max": 0}]}, headers=csrf
    )
    assert bad.status_code == 422 and "max must be a whole number" in bad.json()["detail"]
    assert client.get("/api/qa/forms/999").status_code == 404
    with server[1].db.session() as s:
        assert [a.object_id for a in repo.list_audit(s, action="qa_form_save")] == ["default@2"]


def test_peaks_are_computed_from_the_recording_and_cached(
    client: httpx.Client, server: tuple[str, Any, CallAudio]
) -> None:
    login(client, "qa1")
    r = client.get("/api/calls/q-1/recordings/debtor/peaks", params={"buckets": 120})
    assert r.status_code == 200, r.text
    peaks = r.json()
    assert (
        peaks["duration"] == pytest.approx(12.0, abs=0.01) and len(peaks["max"]) == len(peaks["min"]) == 120
    )
    # the loudest slice of the recorded debtor leg is where the peaks say it is
    debtor = server[2].debtor.astype(np.float32) / 32768.0
    slices = np.array_split(debtor, 120)
    assert int(np.argmax(peaks["max"])) == int(np.argmax([s.max() for s in slices]))
    assert max(peaks["max"]) == pytest.approx(float(debtor.max()), abs=1e-3)
    cached = list((server[1].settings.data_dir / "peaks").rglob("debtor-*-120.json"))
    assert len(cached) == 1 and json.loads(cached[0].read_text())["max"] == peaks["max"]
    assert client.get("/api/calls/q-1/recordings/agent/peaks", params={"buckets": 5}).status_code == 422
    assert client.get("/api/calls/nope/recordings/agent/peaks").status_code == 404
    login(client, "agent1")
    assert client.get("/api/calls/q-1/recordings/agent/peaks").status_code == 403


def test_assign_next_and_hits_once(client: httpx.Client, server: tuple[str, Any, Any]) -> None:
    csrf = login(client, "qa1")
    assert client.get("/api/qa/reviewers").json()["reviewers"] == ["admin1", "qa1"]
    assert client.get("/api/qa/next").json()["call_id"] == "q-1"  # red before yellow
    assert client.get("/api/qa/next", params={"after": "q-1"}).json()["call_id"] == "q-2"
    refused = client.post("/api/qa/calls/q-2/assign", json={"reviewer": "agent1"}, headers=csrf)
    assert refused.status_code == 422 and "not an active QA reviewer" in refused.text
    # a name typed in another case is the one user, held for as stored (before: 422 "not a reviewer")
    ok = client.post("/api/qa/calls/q-2/assign", json={"reviewer": "Admin1"}, headers=csrf)
    assert ok.json() == {
        "call_id": "q-2",
        "state": "in_review",
        "assigned_to": "admin1",
        "assigned_by": "qa1",
    }
    assert client.get("/api/qa/next", params={"after": "q-1"}).json()["call_id"] is None  # q-2 is admin1's
    mine = client.get("/api/qa/queue", params={"mine": "true"}).json()
    assert mine["total"] == 0
    assert client.post("/api/qa/calls/nope/assign", headers=csrf).status_code == 404
    hits = client.get("/api/calls/q-1").json()["hits"]
    assert [(h["rule"], h["status"]) for h in hits] == [("abuse.insult", "confirmed")]


def test_a_draft_saved_on_the_review_page_keeps_the_call_from_the_next_reviewer(
    client: httpx.Client,
) -> None:
    """(After the test above: q-2 is admin1's, q-1 pending.) qa1 saves a draft of q-1: "next" no
    longer hands q-1 to admin1; admin1 can still open it, save a draft of their own (it stays
    qa1's) and take it over explicitly."""
    csrf = login(client, "qa1")
    assert client.get("/api/qa/next").json()["call_id"] == "q-1"
    r = client.post("/api/qa/calls/q-1/review", json={"scorecard": {"identification": 2}}, headers=csrf)
    assert r.status_code == 200 and r.json()["done"] is False, r.text
    entry = client.get("/api/qa/queue", params={"call": "q-1"}).json()["items"][0]
    assert (entry["state"], entry["assigned_to"]) == ("in_review", "qa1")
    assert client.get("/api/qa/next").json()["call_id"] == "q-1"  # still qa1's to go on with
    csrf = login(client, "admin1")
    assert client.get("/api/qa/next", params={"after": "q-2"}).json()["call_id"] is None
    assert client.get("/api/calls/q-1").status_code == 200
    r = client.post("/api/qa/calls/q-1/review", json={"scorecard": {"respect": 1}}, headers=csrf)
    assert r.status_code == 200, r.text
    entry = client.get("/api/qa/queue", params={"call": "q-1"}).json()["items"][0]
    assert (entry["state"], entry["assigned_to"]) == ("in_review", "qa1")
    taken = client.post("/api/qa/calls/q-1/assign", headers=csrf).json()
    assert (taken["state"], taken["assigned_to"]) == ("in_review", "admin1")


def test_next_in_queue_claims_the_call_it_hands_out(
    client: httpx.Client, server: tuple[str, Any, Any]
) -> None:
    """(After the tests above: q-1 and q-2 are admin1's.) ``POST /api/qa/claim`` makes the call it
    hands out the reviewer's, so a second reviewer pressing Next is handed another one (the old
    ``GET /api/qa/next`` handed both the same call); audited; a claim needs the CSRF token."""
    services, audio = server[1], server[2]
    for call_id, level in (("q-3", WarningLevel.ORANGE), ("q-4", WarningLevel.YELLOW)):
        add_call(services.db, services.settings.data_dir, call_id, "A-3", audio, level)
    csrf = login(client, "qa1")
    assert client.post("/api/qa/claim").status_code == 403  # no CSRF token
    assert client.get("/api/qa/next").json()["call_id"] == "q-3"
    assert client.post("/api/qa/claim", headers=csrf).json() == {"call_id": "q-3"}
    entry = client.get("/api/qa/queue", params={"call": "q-3"}).json()["items"][0]
    assert (entry["state"], entry["assigned_to"]) == ("in_review", "qa1")
    assert client.post("/api/qa/claim", params={"after": "q-3"}, headers=csrf).json() == {"call_id": "q-4"}
    with services.db.session() as s:
        claims = [(e.action, e.object_id) for e in repo.list_audit(s, actor="qa1", limit=1000)]
    assert ("qa_claim", "q-3") in claims and ("qa_claim", "q-4") in claims
    csrf = login(client, "admin1")
    assert client.post("/api/qa/claim", params={"level": "orange"}, headers=csrf).json() == {"call_id": None}
    assert client.post("/api/qa/claim", params={"after": "q-1"}, headers=csrf).json() == {"call_id": "q-2"}


def test_a_call_assigned_by_a_lead_is_held_and_a_taken_one_lapses(
    client: httpx.Client, server: tuple[str, Any, Any]
) -> None:
    """admin1 (the lead) assigns q-5 to qa1, qa1 takes q-6 for themself ("Take"); both left
    unopened past ``qa.claim_expiry_s``: admin1's Next is handed q-6, never q-5 (it lapsed too);
    the queue and the call's record say who assigned a call."""
    services, audio = server[1], server[2]
    for call_id in ("q-5", "q-6"):
        add_call(services.db, services.settings.data_dir, call_id, "A-5", audio, WarningLevel.RED)
    csrf = login(client, "admin1")
    given = client.post("/api/qa/calls/q-5/assign", json={"reviewer": "qa1"}, headers=csrf).json()
    assert given == {"call_id": "q-5", "state": "in_review", "assigned_to": "qa1", "assigned_by": "admin1"}
    csrf_qa1 = login(client, "qa1")
    taken = client.post("/api/qa/calls/q-6/assign", headers=csrf_qa1).json()
    assert (taken["assigned_to"], taken["assigned_by"]) == ("qa1", None)
    with services.db.session() as s:  # both claims an hour old, no draft
        for call_id in ("q-5", "q-6"):
            repo.get_qa_item(s, call_id).claimed_at = utcnow() - timedelta(hours=1)
    csrf = login(client, "admin1")
    assert client.get("/api/qa/next", params={"call": "q-5"}).json()["call_id"] is None
    assert client.get("/api/qa/next", params={"call": "q-6"}).json()["call_id"] == "q-6"
    assert client.post("/api/qa/claim", params={"call": "q-5"}, headers=csrf).json() == {"call_id": None}
    assert client.post("/api/qa/claim", params={"call": "q-6"}, headers=csrf).json() == {"call_id": "q-6"}
    items = client.get("/api/qa/queue", params={"call": "q-"}).json()["items"]
    held = {i["call"]["call_id"]: (i["assigned_to"], i["assigned_by"]) for i in items}
    assert held["q-5"] == ("qa1", "admin1") and held["q-6"] == ("admin1", None)
    # the call's record says so too (the review page's "Take" asks before taking q-5 from qa1)
    entry = {"state": "in_review", "assigned_to": "qa1", "assigned_by": "admin1"}
    assert client.get("/api/calls/q-5").json()["qa"] == entry
    login(client, "agent2")  # an agent's own call: no queue entry, as no reviews
    assert client.get("/api/calls/q-2").json()["qa"] is None


def test_a_held_call_is_taken_over_only_by_naming_its_holder(
    client: httpx.Client, server: tuple[str, Any, Any]
) -> None:
    """admin1 gives q-7 to qa1: a request to assign it to anyone else without naming qa1
    (``take_over``), or naming someone who does not hold it, is a 409 that changes nothing (it
    went through silently); naming qa1 takes it over, audited with the name."""
    services, audio = server[1], server[2]
    add_call(services.db, services.settings.data_dir, "q-7", "A-5", audio, WarningLevel.RED)
    csrf = login(client, "admin1")
    client.post("/api/qa/calls/q-7/assign", json={"reviewer": "qa1"}, headers=csrf).raise_for_status()
    bodies: tuple[dict[str, str], ...] = (
        {},
        {"reviewer": "admin1"},
        {"take_over": "admin1"},
        {"reviewer": "admin1", "take_over": "qa2"},
    )
    for body in bodies:
        r = client.post("/api/qa/calls/q-7/assign", json=body, headers=csrf)
        assert r.status_code == 409, (body, r.text)
        assert "held for 'qa1' (assigned by 'admin1')" in r.json()["detail"] and "take_over: 'qa1'" in r.text
    assert client.get("/api/calls/q-7").json()["qa"]["assigned_to"] == "qa1"
    long = client.post("/api/qa/calls/q-7/assign", json={"take_over": "x" * 101}, headers=csrf)
    assert long.status_code == 422
    csrf_qa1 = login(client, "qa1")  # its holder's own Take needs no name and keeps it held
    taken = client.post("/api/qa/calls/q-7/assign", headers=csrf_qa1).json()
    assert (taken["assigned_to"], taken["assigned_by"]) == ("qa1", "admin1")
    csrf = login(client, "admin1")
    taken = client.post("/api/qa/calls/q-7/assign", json={"take_over": "qa1"}, headers=csrf).json()
    assert (taken["assigned_to"], taken["assigned_by"]) == ("admin1", None)
    with services.db.session() as s:
        assigns = [e.detail for e in repo.list_audit(s, actor="admin1", limit=1000)
                   if e.action == "qa_assign" and e.object_id == "q-7"]  # fmt: skip
    assert {"reviewer": "admin1", "take_over": "qa1"} in assigns and {"reviewer": "qa1"} in assigns


def test_a_call_is_put_back_in_the_queue(client: httpx.Client, server: tuple[str, Any, Any]) -> None:
    """``POST .../release``: pending and nobody's; a call a lead gave to someone else only naming
    its holder (409 otherwise); a finished call is a 409; needs the CSRF token; audited."""
    services, audio = server[1], server[2]
    add_call(services.db, services.settings.data_dir, "q-8", "A-5", audio, WarningLevel.RED)
    csrf = login(client, "admin1")
    client.post("/api/qa/calls/q-8/assign", json={"reviewer": "qa1"}, headers=csrf).raise_for_status()
    assert client.post("/api/qa/calls/q-8/release").status_code == 403  # no CSRF token
    refused = client.post("/api/qa/calls/q-8/release", headers=csrf)
    assert refused.status_code == 409 and "take_over: 'qa1'" in refused.text
    assert client.post("/api/qa/calls/nope/release", headers=csrf).status_code == 404
    released = client.post("/api/qa/calls/q-8/release", json={"take_over": "qa1"}, headers=csrf)
    assert released.json() == {"call_id": "q-8", "state": "pending", "assigned_to": None, "assigned_by": None}
    assert client.get("/api/calls/q-8").json()["qa"] == {
        "state": "pending",
        "assigned_to": None,
        "assigned_by": None,
    }
    with services.db.session() as s:
        actions = [
            (e.action, e.detail)
            for e in repo.list_audit(s, actor="admin1", limit=1000)
            if e.object_id == "q-8"
        ]
    assert ("qa_release", {"take_over": "qa1"}) in actions
    login(client, "agent1")
    assert client.post("/api/qa/calls/q-8/release", headers=csrf).status_code in (401, 403)
