"""Issue #15 items 4, 6 and 13 on a real application (real model, real SQLite database) driven by
starlette's TestClient: strict JSON, security headers, password strength, masking on
``/ws/events``, evidence export of hostile call ids, the database file's mode."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.model.audio import Leg
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.session import CallInfo
from agent_monitor.settings import Settings
from agent_monitor.storage import repo
from agent_monitor.storage.recordings import recording_path
from tests.web.auth_support import Principal, add_users, app_settings, running, sign_in
from tests.web.ui_support import add_call
from web.ui.export import safe_name

HOSTILE_IDS = ("通话-1", "../../evil", "..\\..\\evil", "a/b", "a/../../b", "C-1\u202egpj.exe")
DEBTOR_PHONE = "+14155551234"


@dataclass
class World:
    client: TestClient
    admin: Principal
    agent: Principal
    data: Path


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, base_settings: Settings, real_call: CallAudio
) -> Iterator[World]:
    data = tmp_path_factory.mktemp("edge") / "data"
    with running(app_settings(base_settings, data)) as client:
        add_users(client)
        services = client.app.state.services  # type: ignore[attr-defined]
        clip = real_call.excerpt(0.0, 3.0)
        for call_id in HOSTILE_IDS:
            add_call(services.db, data, call_id, "A-ONE", clip, WarningLevel.RED)
        yield World(client, sign_in(client, "admin1"), sign_in(client, "agent1"), data)


def _raw(client: TestClient, path: str, body: str, headers: dict[str, str] | None = None) -> int:
    headers = {"Content-Type": "application/json", **(headers or {})}
    return client.post(path, content=body.encode("utf-8"), headers=headers).status_code


@pytest.mark.parametrize(
    "body",
    [
        '{"username": 1e999, "password": "x"}',
        '{"username": "admin1", "password": NaN}',
        '{"username": "\\ud800", "password": "a long password"}',
        '{"username": "admin1", "password": "\\udfff\\ud800"}',
        "[" * 100000 + "]" * 100000,
    ],
)
def test_unusable_json_is_422_on_the_unauthenticated_login(world: World, body: str) -> None:
    assert _raw(world.client, "/api/auth/login", body) == 422


def test_unusable_json_is_422_for_signed_in_routes_too(world: World) -> None:
    h = world.admin.headers()
    assert _raw(world.client, "/api/admin/users", '{"username": "x", "password": 1e999}', h) == 422
    assert (
        _raw(
            world.client, "/api/agent/ack", '{"call_id": "c", "rule": "r", "t": 1e400}', world.agent.headers()
        )
        == 422
    )


def test_pages_and_api_carry_a_content_security_policy(world: World) -> None:
    for path in ("/login", "/api/auth/me", "/healthz"):
        csp = world.client.get(path, headers=world.admin.headers()).headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, (path, csp)
        assert "unsafe-eval" not in csp


@pytest.mark.parametrize("password", ["password12", "1111111111", "qwertyuiop1", "admin1admin1"])
def test_weak_passwords_are_refused(world: World, password: str) -> None:
    body = {"username": "weakling", "password": password, "role": "qa"}
    r = world.client.post("/api/admin/users", json=body, headers=world.admin.headers())
    assert r.status_code == 422 and "strength" in r.json()["detail"], r.text
    r = world.client.patch("/api/admin/users/qa1", json={"password": password}, headers=world.admin.headers())
    assert r.status_code == 422 and "strength" in r.json()["detail"], r.text


def test_a_strong_password_is_accepted(world: World) -> None:
    body = {"username": "strongling", "password": "violet tram umbrella 1987", "role": "qa"}
    assert world.client.post("/api/admin/users", json=body, headers=world.admin.headers()).status_code == 201


def _agent_sees_start(world: World, info: CallInfo) -> dict[str, Any]:
    """The ``call_started`` event an agent's ``/ws/events`` gets when the call ``info`` starts."""
    services = world.client.app.state.services  # type: ignore[attr-defined]
    with world.client.websocket_connect(
        "/ws/events?types=call_started", headers=world.agent.headers(csrf=False)
    ) as ws:
        assert ws.receive_json()["type"] == "subscribed"
        assert world.client.portal is not None
        session = world.client.portal.call(services.manager.start_call, info)
        try:
            event: dict[str, Any] = ws.receive_json()
        finally:
            world.client.portal.call(session.stop, "stop")
    return event


def test_ws_events_masks_the_debtor_phone_for_an_agent(world: World) -> None:
    info = CallInfo(call_id="masked-live", agent_id="A-ONE", debtor_phone=DEBTOR_PHONE)
    event = _agent_sees_start(world, info)
    assert event["type"] == "call_started" and event["call_id"] == "masked-live"
    assert event["info"]["debtor_phone"] != DEBTOR_PHONE and "1234" in event["info"]["debtor_phone"]
    assert DEBTOR_PHONE not in str(event)


def test_ws_events_masks_the_debt_id_for_an_agent(world: World) -> None:
    debt = "ACCT-4111111111111111"  # a debt named by the card it is owed on
    event = _agent_sees_start(world, CallInfo(call_id="masked-debt", agent_id="A-ONE", debt_id=debt))
    assert event["type"] == "call_started" and event["call_id"] == "masked-debt"
    assert event["info"]["debt_id"] == "ACCT-[CARD ••1111]" and "41111111" not in str(event), event


def _exports(world: World, call_id: str) -> int:
    with world.client.app.state.services.db.session() as s:  # type: ignore[attr-defined]
        return len(repo.list_audit(s, action="evidence_export", object_id=call_id))


@pytest.mark.parametrize("call_id", HOSTILE_IDS)
def test_evidence_export_of_hostile_call_ids(world: World, call_id: str) -> None:
    from urllib.parse import quote

    before = _exports(world, call_id)
    path = "/api/calls/" + quote(call_id, safe="") + "/export.zip"
    r = world.client.get(path, headers=world.admin.headers())
    assert r.status_code == 200, r.text
    assert _exports(world, call_id) == before + 1
    disposition = r.headers["content-disposition"]
    assert disposition.isascii() and "filename*=UTF-8''" in disposition
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert "audio/agent.wav" in {n.split("/", 1)[1] for n in names}
    folders = {name.split("/", 1)[0] for name in names}
    assert len(folders) == 1 and folders != {call_id}
    for name in names:
        assert name.isascii() and "\\" not in name and not name.startswith(("/", ".")), name
        assert ".." not in name.split("/"), name


@pytest.mark.parametrize("call_id", HOSTILE_IDS)
def test_call_ids_with_slashes_open(world: World, call_id: str) -> None:
    from urllib.parse import quote

    r = world.client.get("/api/calls/" + quote(call_id, safe=""), headers=world.admin.headers())
    assert r.status_code == 200 and r.json()["call"]["call_id"] == call_id, r.text
    wav = world.client.get(
        f"/api/calls/{quote(call_id, safe='')}/recordings/agent.wav", headers=world.admin.headers()
    )
    assert wav.status_code == 200 and wav.content[:4] == b"RIFF"


def test_export_failure_writes_no_audit_row(world: World) -> None:
    r = world.client.get("/api/calls/no-such-call/export.zip", headers=world.admin.headers())
    assert r.status_code == 404
    assert _exports(world, "no-such-call") == 0


def _export_manifest(world: World, call_id: str) -> tuple[dict[str, Any], dict[str, str]]:
    from urllib.parse import quote

    r = world.client.get(f"/api/calls/{quote(call_id, safe='')}/export.zip", headers=world.admin.headers())
    assert r.status_code == 200, r.text
    zf, folder = zipfile.ZipFile(io.BytesIO(r.content)), safe_name(call_id)
    lines = zf.read(f"{folder}/SHA256SUMS").decode().splitlines()
    sums = {name: digest for digest, name in (line.split("  ") for line in lines)}
    return json.loads(zf.read(f"{folder}/manifest.json")), sums


def test_the_export_ties_each_recording_to_its_sealed_sha256(world: World) -> None:
    manifest, sums = _export_manifest(world, "a/b")
    with world.client.app.state.services.db.session() as s:  # type: ignore[attr-defined]
        sealed = {leg.value: repo.require_recording(s, "a/b", leg).sha256 for leg in Leg}
    for leg in Leg:
        entry = manifest["recordings"][leg.value]
        assert entry["sealed_sha256"] == sealed[leg.value] == sums[f"audio/{leg.value}.wav"]
        assert entry["evidence_log"]["id"] >= 1 and len(entry["evidence_log"]["row_hash"]) == 64


def test_the_export_of_a_modified_recording_is_refused(world: World, real_call: CallAudio) -> None:
    services = world.client.app.state.services  # type: ignore[attr-defined]
    add_call(services.db, world.data, "tampered-1", "A-ONE", real_call.excerpt(0.0, 3.0), WarningLevel.RED)
    manifest, _ = _export_manifest(world, "tampered-1")
    assert manifest["recordings"]["agent"]["sealed_sha256"]
    with recording_path(world.data, "tampered-1", Leg.AGENT).open("r+b") as f:
        f.seek(20_000)
        f.write(bytes(10_000))
    before = _exports(world, "tampered-1")
    r = world.client.get("/api/calls/tampered-1/export.zip", headers=world.admin.headers())
    assert r.status_code == 409, r.text
    detail = r.json()["detail"]
    assert "agent leg's recording was modified after it was closed" in detail and "db verify" in detail
    assert str(world.data) not in detail  # the server's paths are not shown
    assert _exports(world, "tampered-1") == before  # a refused export is not recorded as served


def test_the_export_of_a_finished_review_changed_behind_the_application_is_refused(
    world: World, real_call: CallAudio
) -> None:
    """A finished QA review is sealed: the manifest names its seal, and a verdict changed in the
    database afterwards refuses the export (409) like a modified recording."""
    services = world.client.app.state.services  # type: ignore[attr-defined]
    add_call(services.db, world.data, "reviewed-1", "A-ONE", real_call.excerpt(0.0, 3.0), WarningLevel.RED)
    with services.db.session() as s:
        [alert] = repo.list_alerts(s, call_id="reviewed-1")
        card = {item.key: item.max for item in repo.to_form(repo.current_form(s)).items}
        repo.save_review(s, "reviewed-1", "qa1", scorecard=card, verdicts={alert.id: "confirmed"}, done=True)
    manifest, _ = _export_manifest(world, "reviewed-1")
    [review] = manifest["reviews"]
    assert review["reviewer"] == "qa1" and review["state"] == "finished", review
    assert len(review["sealed_digest"]) == 64 and review["qa_review_seals"]["event"] == "finished", review
    with services.db.engine.begin() as conn:
        conn.execute(
            text("UPDATE qa_verdicts SET verdict = 'false_alarm' WHERE alert_id = :a"), {"a": alert.id}
        )
    before = _exports(world, "reviewed-1")
    r = world.client.get("/api/calls/reviewed-1/export.zip", headers=world.admin.headers())
    assert r.status_code == 409, r.text
    detail = r.json()["detail"]
    assert "qa1's QA review does not match its seal" in detail and "db verify" in detail, detail
    assert _exports(world, "reviewed-1") == before


def test_the_database_file_is_private(world: World) -> None:
    db_file = world.data / "agent-monitor.db"
    assert stat.S_IMODE(db_file.stat().st_mode) == 0o600
