"""The pages' REST API against a real application (real database, real Vosk model loaded by the
lifespan): scope per role, personal-data masking per role, recordings, alert actions, audit."""

from __future__ import annotations

import io
import json
import logging
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from agent_monitor.ingest.call_audio import CallAudio, load_call_audio
from agent_monitor.model.audio import Leg
from agent_monitor.model.levels import WarningLevel
from agent_monitor.settings import Settings
from agent_monitor.storage import repo
from agent_monitor.storage.recordings import recording_path
from tests.web.ui_support import (
    CARD,
    DEBTOR_PHONE,
    PHONE,
    add_call,
    add_users,
    live_again,
    login,
    serve,
    ui_app,
)


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, base_settings: Settings, eval_data: Path
) -> Iterator[tuple[str, Any]]:
    settings = base_settings.model_copy(
        update={
            "data_dir": tmp_path_factory.mktemp("ui") / "data",
            "server": base_settings.server.model_copy(update={"audiosocket_port": None}),
        }
    )
    app = ui_app(settings)
    audio: CallAudio = load_call_audio(eval_data / "calls" / "spokenwoz" / "MUL1011.opus", 8000).excerpt(
        0, 12
    )
    with serve(app) as url:
        db = app.state.services.db
        add_users(db)
        add_call(db, settings.data_dir, "call-a1", "A-1", audio, WarningLevel.RED, debt_id=DEBT_CARD)
        add_call(db, settings.data_dir, "call-a2", "A-2", audio, WarningLevel.ORANGE)
        add_call(db, settings.data_dir, "call-a3", "A-3", audio, WarningLevel.YELLOW)
        yield url, app.state.services


@pytest.fixture()
def client(server: tuple[str, Any]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server[0]) as c:
        c.services = server[1]  # type: ignore[attr-defined]
        yield c


def audit_rows(client: httpx.Client, action: str) -> list[Any]:
    with client.services.db.session() as s:  # type: ignore[attr-defined]
        return [(a.actor, a.object_id, dict(a.detail or {})) for a in repo.list_audit(s, action=action)]


def call_ids(client: httpx.Client) -> set[str]:
    r = client.get("/api/calls")
    assert r.status_code == 200, r.text
    return {c["call_id"] for c in r.json()["calls"]}


def test_each_role_lists_only_its_calls(client: httpx.Client) -> None:
    expected = {
        "agent1": {"call-a1"},
        "agent2": {"call-a2"},
        "sup1": {"call-a1", "call-a2"},
        "sup2": {"call-a3"},
        "qa1": {"call-a1", "call-a2", "call-a3"},
        "admin1": {"call-a1", "call-a2", "call-a3"},
    }
    for user, calls in expected.items():
        login(client, user)
        assert call_ids(client) == calls, user


def test_an_agent_cannot_open_another_agents_call(client: httpx.Client) -> None:
    login(client, "agent1")
    assert client.get("/api/calls/call-a1").status_code == 200
    for path in ("/api/calls/call-a2", "/api/calls/call-a3", "/api/calls/nope"):
        assert client.get(path).status_code == 404, path
    assert client.get("/api/calls/call-a2/recordings/agent.wav").status_code == 403
    assert client.get("/api/qa/queue").status_code == 403
    assert client.get("/api/wall").status_code == 403
    login(client, "sup2")
    assert client.get("/api/calls/call-a1").status_code == 404
    assert client.get("/api/calls/call-a1/export.zip").status_code == 404


def test_signed_out_requests_are_refused(client: httpx.Client) -> None:
    client.cookies.clear()
    for path in ("/api/calls", "/api/calls/call-a1", "/api/wall", "/api/qa/queue", "/api/agent/current"):
        assert client.get(path).status_code == 401, path
    page = client.get("/supervisor", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login?next=")


#: a debt named by the card it is owed on: personal data like the card read out in the call (the
#: prefix does not make it an identifier to leave alone, as a call id said in a call is)
DEBT_CARD = "ACCT-4111111111111111"


def test_personal_data_is_masked_for_agent_and_qa_only(client: httpx.Client) -> None:
    for user, masked in (("agent1", True), ("qa1", True), ("sup1", False), ("admin1", False)):
        login(client, user)
        record = client.get("/api/calls/call-a1").json()
        debtor = next(u for u in record["utterances"] if u["leg"] == "debtor")
        words = " ".join(w["text"] for w in debtor["words"])
        reasons = record["alerts"][0]["reasons"][0]["text"]
        if masked:
            assert CARD not in debtor["text"] and PHONE not in debtor["text"], user
            assert "[CARD ••1111]" in debtor["text"] and "[PHONE ••5678]" in debtor["text"], debtor["text"]
            assert "4111" not in words and PHONE not in words and "[CARD ••1111]" in words
            assert len(debtor["words"]) == len(CARD.split()) + 8  # one per recognised word
            assert PHONE not in reasons and record["call"]["debtor_phone"] == "+[PHONE ••1234]"
            assert record["call"]["debt_id"] == "ACCT-[CARD ••1111]", record["call"]
        else:
            assert CARD in debtor["text"] and PHONE in debtor["text"] and PHONE in reasons, user
            assert record["call"]["debtor_phone"] == DEBTOR_PHONE
            assert record["call"]["debt_id"] == DEBT_CARD


def test_recording_download_is_audited(client: httpx.Client) -> None:
    login(client, "qa1")
    r = client.get("/api/calls/call-a1/recordings/debtor.wav")
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
    assert r.content[:4] == b"RIFF" and len(r.content) == 44 + 12 * 8000 * 2
    assert ("qa1", "call-a1", {"leg": "debtor", "bytes": 12 * 8000 * 2}) in audit_rows(
        client, "recording_download"
    )
    part = client.get("/api/calls/call-a1/recordings/debtor.wav", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == r.content[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(r.content)}"
    tail = client.get("/api/calls/call-a1/recordings/debtor.wav", headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == r.content[-10:]
    beyond = {"Range": f"bytes={len(r.content)}-"}
    assert client.get("/api/calls/call-a1/recordings/debtor.wav", headers=beyond).status_code == 416
    # seeking (ranges not from byte 0) is not a new download: one audit record per playback
    assert len([a for a in audit_rows(client, "recording_download") if a[0] == "qa1"]) == 1


def test_a_head_is_audited_as_a_look_not_as_a_download(client: httpx.Client) -> None:
    """``curl -I`` on a recording or the evidence export sends no audio and no package: the audit
    log says ``recording_head`` / ``evidence_export_head``, not a download that never happened."""
    login(client, "admin1")
    wav, package = "/api/calls/call-a2/recordings/agent.wav", "/api/calls/call-a2/export.zip"
    for path in (wav, package):
        head = client.head(path)
        assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) > 0

    def mine(action: str) -> list[Any]:
        return [a for a in audit_rows(client, action) if a[:2] == ("admin1", "call-a2")]

    assert [a[2]["leg"] for a in mine("recording_head")] == ["agent"]
    assert len(mine("evidence_export_head")) == 1
    assert mine("recording_download") == [] and mine("evidence_export") == []
    assert client.get(wav).status_code == 200 and client.get(package).status_code == 200
    assert len(mine("recording_download")) == 1 and len(mine("evidence_export")) == 1


def _recording_answers(client: httpx.Client, call_id: str) -> list[httpx.Response]:
    return [
        client.get(f"/api/calls/{call_id}/recordings/agent.wav"),
        client.get(f"/api/calls/{call_id}/recordings/agent/peaks", params={"buckets": 100}),
        client.get(f"/api/calls/{call_id}/recordings/agent.wav", headers={"Accept": "text/html"}),
    ]


def test_a_missing_or_unreadable_recording_file_is_a_404_without_the_server_path(
    client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    """The row is there, the file is not (or is not a recording): the client is told which leg of
    which call, never where the server keeps it; the server's log keeps the path."""
    login(client, "qa1")
    settings = client.services.settings  # type: ignore[attr-defined]
    path = recording_path(settings.media_dir, "call-a3", Leg.AGENT)
    away = path.with_name("agent.wav.away")
    found: dict[str, list[httpx.Response]] = {}
    path.rename(away)
    try:
        with caplog.at_level(logging.WARNING, logger="web"):
            found["missing"] = _recording_answers(client, "call-a3")
            path.write_bytes(b"not a recording at all, just some bytes")
            found["unreadable"] = _recording_answers(client, "call-a3")
            export = client.get("/api/calls/call-a3/export.zip")  # sealed: the export is refused
    finally:
        away.replace(path)
    said = {"missing": "is missing on the server", "unreadable": "cannot be read on the server"}
    for case, answers in found.items():
        for r in answers:
            assert r.status_code == 404, (case, r.request.url, r.text)
            assert str(settings.data_dir) not in r.text and "agent.wav" not in r.text, (case, r.text)
        assert (
            answers[0].json()
            == answers[1].json()
            == {"detail": f"the agent recording of call 'call-a3' {said[case]}"}
        )
    assert export.status_code == 409 and str(settings.data_dir) not in export.text, export.text
    logged = [r for r in caplog.records if r.name.startswith("web.") and str(path) in r.getMessage()]
    assert len(logged) == 6 and {r.levelno for r in logged} == {logging.WARNING}, logged
    assert not [a for a in audit_rows(client, "recording_download") if a[1] == "call-a3"]
    assert client.get("/api/calls/call-a3/recordings/agent.wav").status_code == 200  # back in place


def test_supervisor_alert_actions_need_csrf_and_scope(client: httpx.Client) -> None:
    csrf = login(client, "sup1")
    alert_id = client.get("/api/calls/call-a1").json()["alerts"][0]["alert_id"]
    assert client.post(f"/api/alerts/{alert_id}/acknowledge", json={}).status_code == 403  # no CSRF header
    r = client.post(f"/api/alerts/{alert_id}/acknowledge", json={"note": "on it"}, headers=csrf)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "acknowledged" and r.json()["acknowledged_by"] == "sup1"
    assert client.post(f"/api/alerts/{alert_id}/resolve", json={}, headers=csrf).json()["state"] == "resolved"
    assert client.post(f"/api/alerts/{alert_id}/resolve", json={}, headers=csrf).status_code == 409
    other = login(client, "sup2")
    assert client.post(f"/api/alerts/{alert_id}/take_over", json={}, headers=other).status_code == 404
    assert client.post("/api/alerts/999999/take_over", json={}, headers=other).status_code == 404


def test_the_old_take_over_path_is_the_wall_s_handler(client: httpx.Client) -> None:
    """``/api/alerts/ID/take_over`` answers like ``/api/wall/alerts/ID/take_over``: the alert and
    the phone-system hook's outcome, mode listen when no body says otherwise (the calls live
    meanwhile: one that ended has nothing to take over)."""
    with live_again(client.services.db, "call-a1", "call-a2"):  # type: ignore[attr-defined]
        with client.services.db.session() as s:  # type: ignore[attr-defined]
            reasons = [{"kind": "rule", "rule": "abuse.insult", "text": "again", "t": 11.0}]
            alert_id = repo.raise_alert(
                s, "call-a1", WarningLevel.RED, reasons, raised_at_s=11.0, handoff=True
            ).id
        csrf = login(client, "sup1")
        orange = client.get("/api/calls/call-a2").json()["alerts"][0]["alert_id"]
        for path in (f"/api/alerts/{orange}/take_over", f"/api/wall/alerts/{orange}/take_over"):
            refused = client.post(path, json={}, headers=csrf)  # no hand-off was asked for: 409 on both
            assert refused.status_code == 409 and "no handoff" in refused.json()["detail"], refused.text
        r = client.post(f"/api/alerts/{alert_id}/take_over", headers=csrf)  # no body at all
        assert r.status_code == 200, r.text
        answer = r.json()
        assert set(answer) == {"alert", "hook"}
        assert answer["alert"]["taken_over_by"] == "sup1" and answer["alert"]["owner"] == "sup1"
        assert answer["hook"] == {
            "sent": False,
            "ok": False,
            "status": None,
            "error": "no phone-system hook configured",
        }
        with client.services.db.session() as s:  # type: ignore[attr-defined]
            assert repo.alert_events(s, alert_id)[-1].note == "listen"  # the wall's default mode
        again = client.post(f"/api/wall/alerts/{alert_id}/take_over", json={"mode": "barge"}, headers=csrf)
        assert again.status_code == 409, again.text


def test_qa_queue_filters(client: httpx.Client) -> None:
    login(client, "qa1")

    def queue(**params: Any) -> set[str]:
        r = client.get("/api/qa/queue", params=params)
        assert r.status_code == 200, r.text
        return {i["call"]["call_id"] for i in r.json()["items"]}

    assert queue() == {"call-a1", "call-a2", "call-a3"}
    assert queue(level="red") == {"call-a1"}
    assert queue(level=["red", "orange"]) == {"call-a1", "call-a2"}
    assert queue(agent="A-2") == {"call-a2"}
    assert queue(rule="abuse.insult") == {"call-a1", "call-a2", "call-a3"}
    assert queue(rule="no.such.rule") == set()
    assert queue(rule="INSULT", agent="a-2") == {"call-a2"}  # any part, any case
    assert queue(call="CALL-A") == {"call-a1", "call-a2", "call-a3"}
    assert queue(team="t2") == {"call-a3"}
    assert queue(q="stupid idi") == {"call-a1", "call-a2", "call-a3"}  # full-text, last word a prefix
    assert queue(q="collections office", agent="A-1") == {"call-a1"}
    assert queue(q="bankruptcy") == set()
    page = client.get("/api/qa/queue", params={"sort": "level", "order": "desc", "limit": 2}).json()
    assert page["total"] == 3 and [i["level"] for i in page["items"]] == ["red", "orange"]
    assert page["items"][0]["duration"] == 30.0 and page["items"][0]["team"] == "T1"
    assert client.get("/api/qa/queue", params={"q": "%%"}).status_code == 422
    assert queue(since="2000-01-01", until="2000-01-02") == set()
    assert client.get("/api/qa/queue", params={"level": "purple"}).status_code == 422


def test_review_with_verdicts_and_scorecard(client: httpx.Client) -> None:
    csrf = login(client, "qa1")
    alert_id = client.get("/api/calls/call-a2").json()["alerts"][0]["alert_id"]
    assert client.post("/api/qa/calls/call-a2/assign", headers=csrf).json()["state"] == "in_review"
    body: dict[str, Any] = {
        "verdicts": {str(alert_id): "confirmed"},
        "scorecard": {"respect": 0, "identification": 2},
        "notes": "ok",
    }
    # finishing with items not scored is refused with a clear message, nothing stored as 0
    r = client.post("/api/qa/calls/call-a2/review", json={**body, "done": True}, headers=csrf)
    assert r.status_code == 422 and "before finishing: disclosure, accuracy, resolution" in r.text, r.text
    body["scorecard"].update(disclosure="na", accuracy=2, resolution=1)
    r = client.post("/api/qa/calls/call-a2/review", json={**body, "done": True}, headers=csrf)
    assert r.status_code == 422 and "needs a comment: respect" in r.text, r.text
    body["comments"] = {"respect": "insult at 0:08"}
    r = client.post("/api/qa/calls/call-a2/review", json={**body, "done": True}, headers=csrf)
    assert r.status_code == 200, r.text
    review = client.get("/api/calls/call-a2").json()["reviews"][0]
    assert review["verdicts"] == {str(alert_id): "confirmed"} and review["scorecard"]["respect"] == 0
    assert review["scorecard"]["disclosure"] == "na" and review["form_id"] == r.json()["form_id"]
    assert review["score"] == r.json()["score"] == pytest.approx(100 * (0 + 2 + 2 + 1) / 2 / 5, abs=0.1)
    assert {i["state"] for i in client.get("/api/qa/queue", params={"agent": "A-2"}).json()["items"]} == {
        "done"
    }
    bad = {"verdicts": {"999999": "confirmed"}}
    assert client.post("/api/qa/calls/call-a2/review", json=bad, headers=csrf).status_code == 422
    bad_score = {"scorecard": {"respect": 5}}
    assert client.post("/api/qa/calls/call-a2/review", json=bad_score, headers=csrf).status_code == 422
    assert any(a[0] == "qa1" and a[1] == "call-a2" for a in audit_rows(client, "qa_review"))
    # a score must be a number (true is not 1), an alert id one the database can hold
    for bad_body in ({"scorecard": {"respect": True}}, {"verdicts": {str(2**63): "confirmed"}}):
        r = client.post("/api/qa/calls/call-a2/review", json=bad_body, headers=csrf)
        assert r.status_code == 422, (bad_body, r.status_code, r.text)
    # the finished review saved as a draft again is unfinished: the call goes back to the work queue
    # (it stayed "done" with no finished review, and fell out of both the queue and the reports)
    r = client.post("/api/qa/calls/call-a2/review", json={**body, "notes": "typo fixed"}, headers=csrf)
    assert r.status_code == 200 and r.json()["done"] is False
    states = {i["state"] for i in client.get("/api/qa/queue", params={"agent": "A-2"}).json()["items"]}
    assert states == {"in_review"}
    r = client.post("/api/qa/calls/call-a2/review", json={**body, "done": True}, headers=csrf)
    assert r.status_code == 200
    states = {i["state"] for i in client.get("/api/qa/queue", params={"agent": "A-2"}).json()["items"]}
    assert states == {"done"}


def test_numbers_and_dates_past_what_the_database_holds_are_refused(client: httpx.Client) -> None:
    """Ids and offsets of 2**63 and more cannot be bound to an SQLite or PostgreSQL integer: a 422
    where the request is read (they were a 500 from the driver); a date at the calendar's end is no
    bound rather than an overflow."""
    huge = str(2**63)
    csrf = login(client, "sup1")
    assert client.get("/api/calls", params={"offset": huge}).status_code == 422
    assert client.get("/api/calls", params={"offset": str(2**63 - 1)}).json() == {"calls": []}
    assert client.post(f"/api/alerts/{huge}/acknowledge", headers=csrf).status_code == 422
    assert client.post(f"/api/alerts/{huge}/take_over", headers=csrf).status_code == 422
    csrf = login(client, "qa1")
    assert client.get(f"/api/qa/forms/{huge}").status_code == 422
    for path in ("/api/qa/queue", "/api/qa/next"):
        r = client.get(path, params={"until": "9999-12-31", "since": "0001-01-01"})
        assert r.status_code == 200, (path, r.text)
    login(client, "admin1")
    assert client.get("/api/admin/audit", params={"offset": huge}).status_code == 422


def test_evidence_export_has_checksums_and_is_audited(client: httpx.Client) -> None:
    login(client, "qa1")
    r = client.get("/api/calls/call-a1/export.zip")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    zf = zipfile.ZipFile(io.BytesIO(r.content))
    names = set(zf.namelist())
    for part in ("audio/agent.wav", "audio/debtor.wav", "transcript.json", "transcript.txt", "alerts.json"):
        assert f"call-a1/{part}" in names
    import hashlib

    sums = zf.read("call-a1/SHA256SUMS").decode().splitlines()
    assert len(sums) == len(names) - 1
    for line in sums:
        digest, name = line.split("  ")
        assert hashlib.sha256(zf.read(f"call-a1/{name}")).hexdigest() == digest, name
    transcript = zf.read("call-a1/transcript.txt").decode()
    assert PHONE not in transcript and "[PHONE ••5678]" in transcript  # masked for qa
    assert json.loads(zf.read("call-a1/call.json"))["debt_id"] == "ACCT-[CARD ••1111]"  # as on the page
    assert any(a[:2] == ("qa1", "call-a1") and a[2]["masked"] for a in audit_rows(client, "evidence_export"))
    login(client, "admin1")
    full = zipfile.ZipFile(io.BytesIO(client.get("/api/calls/call-a1/export.zip").content))
    assert PHONE in full.read("call-a1/transcript.txt").decode()
    assert json.loads(full.read("call-a1/call.json"))["debt_id"] == DEBT_CARD


def test_agent_acknowledges_a_warning(client: httpx.Client) -> None:
    csrf = login(client, "agent1")
    current = client.get("/api/agent/current").json()
    assert current["call"]["call_id"] == "call-a1"
    warning = current["warnings"][0]
    assert warning["rule"] == "abuse.insult" and warning["compliant"]
    body = {"call_id": "call-a1", "rule": "abuse.insult", "t": 9.5}
    assert client.post("/api/agent/ack", json=body, headers=csrf).status_code == 200
    assert client.get("/api/agent/current").json()["acknowledged"] == [{"rule": "abuse.insult", "t": 9.5}]
    assert client.post("/api/agent/ack", json={**body, "call_id": "call-a2"}, headers=csrf).status_code == 404


def test_pages_by_role_and_static_assets(client: httpx.Client) -> None:
    pages = {
        "/supervisor": {"sup1", "admin1"},
        "/agent": {"agent1"},
        "/qa": {"qa1", "admin1"},
        "/admin": {"admin1"},
    }
    for user in ("agent1", "sup1", "qa1", "admin1"):
        login(client, user)
        for path, allowed in pages.items():
            r = client.get(path, follow_redirects=False)
            assert r.status_code == (200 if user in allowed else 403), (user, path)
    login(client, "sup2")  # the call page of another team's call
    assert client.get("/qa/calls/call-a1", follow_redirects=False).status_code == 404
    login(client, "qa1")
    assert client.get("/qa/calls/no-such-call", follow_redirects=False).status_code == 404
    page = client.get("/qa/calls/call-a1", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh">' in page.text and "qa_call.js" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # nothing from outside
    for asset in ("common.js", "i18n.js", "style.css", "supervisor.js", "agent.js", "qa.js", "qa_call.js"):
        r = client.get(f"/ui/static/{asset}")
        assert r.status_code == 200 and "https://" not in r.text, asset


def test_the_recording_address_of_a_call_id_with_reserved_characters(
    client: httpx.Client, eval_data: Path
) -> None:
    """A call id may hold ``#``, ``?``, ``%`` or ``/`` (``agent_monitor/model/identifiers.py``): the
    address the call's record gives for each leg still fetches that leg."""
    services = client.services  # type: ignore[attr-defined]
    call_id = "C#7?x=1&y/%20"
    audio = load_call_audio(eval_data / "calls" / "spokenwoz" / "MUL1011.opus", 8000).excerpt(0, 2)
    add_call(services.db, services.settings.data_dir, call_id, "A-9", audio, WarningLevel.YELLOW)
    login(client, "qa1")
    listed = client.get("/api/calls").json()["calls"]
    assert call_id in {c["call_id"] for c in listed}
    record = client.get(f"/api/calls/{quote(call_id, safe='')}")
    assert record.status_code == 200, record.text
    for rec in record.json()["recordings"]:
        r = client.get(rec["url"])
        assert r.status_code == 200 and r.content[:4] == b"RIFF", (rec["url"], r.status_code, r.text[:200])
