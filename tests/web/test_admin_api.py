"""Administration and reports through the real application (real SQLite database, real Vosk model
loaded at start-up, real users with argon2 hashes): users, teams, sessions, rule packs, the audit
log viewer and the reports API with its CSV files. Every admin change must appear in the audit log."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.settings import Settings
from agent_monitor.storage import WarningLevel, repo
from tests.web.auth_support import PASSWORD, Principal, add_users, app_settings, running, sign_in
from tests.web.pack_support import banana_pack
from tests.web.ui_support import add_call

REPO_ROOT = str(Path(__file__).resolve().parents[2])


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, base_settings: Settings, real_call: CallAudio
) -> Iterator[tuple[TestClient, dict[str, Principal]]]:
    data = tmp_path_factory.mktemp("admin") / "data"
    with running(app_settings(base_settings, data)) as client:
        add_users(client)
        db = client.app.state.services.db  # type: ignore[attr-defined]
        clip = real_call.excerpt(0.0, 4.0)
        add_call(db, data, "rep-red-1", "A-ONE", clip, WarningLevel.RED)
        add_call(db, data, "rep-blue-1", "A-TWO", clip, WarningLevel.ORANGE)
        callers = {name: sign_in(client, name) for name in ("admin1", "qa1", "sup_red", "agent1")}
        yield client, callers


def _actions(client: TestClient, actor: str = "admin1") -> list[tuple[str, str | None]]:
    with client.app.state.services.db.session() as s:  # type: ignore[attr-defined]
        return [(e.action, e.object_id) for e in repo.list_audit(s, actor=actor, limit=1000)]


def _call(client: TestClient, who: Principal, method: str, url: str, body: Any = None) -> Any:
    r = client.request(method, url, headers=who.headers(), json=body)
    client.cookies.clear()
    return r


def test_supervisor_needs_a_team_and_no_agent_id(world: tuple[TestClient, dict[str, Principal]]) -> None:
    client, who = world
    base = {"password": "a long new password 7", "role": "supervisor"}
    r = _call(client, who["admin1"], "POST", "/api/admin/users", {**base, "username": "sup_none"})
    assert r.status_code == 422 and "needs a team" in r.json()["detail"], r.text
    r = _call(
        client,
        who["admin1"],
        "POST",
        "/api/admin/users",
        {**base, "username": "sup_ag", "team": "x", "agent_id": "A-9"},
    )
    assert r.status_code == 422 and "no agent id" in r.json()["detail"], r.text
    r = _call(client, who["admin1"], "PATCH", "/api/admin/users/qa1", {"role": "supervisor"})
    assert r.status_code == 422 and "needs a team" in r.json()["detail"]


def test_edit_role_team_password_reactivate_and_end_sessions(
    world: tuple[TestClient, dict[str, Principal]],
) -> None:
    client, who = world
    admin = who["admin1"]
    r = _call(
        client, admin, "POST", "/api/admin/users", {"username": "ed", "password": PASSWORD, "role": "qa"}
    )
    assert r.status_code == 201, r.text
    r = _call(client, admin, "PATCH", "/api/admin/users/ed", {"role": "supervisor", "team": "red-team"})
    assert r.status_code == 200 and (r.json()["role"], r.json()["team"]) == ("supervisor", "red-team")
    r = _call(client, admin, "PATCH", "/api/admin/users/ed", {"team": "blue-team"})
    assert r.json()["team"] == "blue-team"
    ed = sign_in(client, "ed")
    assert _call(client, ed, "GET", "/api/auth/me").status_code == 200
    r = _call(client, admin, "POST", "/api/admin/users/ed/end-sessions")
    assert r.status_code == 200, r.text
    assert _call(client, ed, "GET", "/api/auth/me").status_code == 401  # the old session is over
    # signing in again at once stands (tests/web/test_end_sessions_same_second.py: the same second)
    assert _call(client, sign_in(client, "ed"), "GET", "/api/auth/me").status_code == 200
    assert _call(client, admin, "PATCH", "/api/admin/users/ed", {"active": False}).json()["active"] is False
    assert client.post("/api/auth/login", json={"username": "ed", "password": PASSWORD}).status_code == 401
    assert _call(client, admin, "PATCH", "/api/admin/users/ed", {"active": True}).json()["active"] is True
    r = _call(client, admin, "PATCH", "/api/admin/users/ed", {"password": "another quite long password 9"})
    assert r.status_code == 200
    assert sign_in(client, "ed", "another quite long password 9").username == "ed"
    assert _call(client, admin, "POST", "/api/admin/users/nobody/end-sessions").status_code == 404
    actions = [a for a in _actions(client) if a[1] == "ed"]
    assert ("user_created", "ed") in actions and ("sessions_ended", "ed") in actions
    assert sum(1 for a in actions if a[0] == "user_updated") == 5


def test_teams_create_rename_move_and_audit(world: tuple[TestClient, dict[str, Principal]]) -> None:
    client, who = world
    admin = who["admin1"]
    with client.app.state.services.db.session() as s:  # type: ignore[attr-defined]
        repo.ensure_agent(s, "A-NEW")
    r = _call(client, admin, "POST", "/api/admin/teams", {"name": "green", "agents": ["A-NEW"]})
    assert r.status_code == 201, r.text
    assert {"name": "green", "agents": ["A-NEW"], "supervisors": []} in r.json()["teams"]
    assert (
        _call(client, admin, "POST", "/api/admin/teams", {"name": "green", "agents": ["A-NEW"]}).status_code
        == 409
    )
    assert _call(client, admin, "POST", "/api/admin/teams", {"name": "empty"}).status_code == 422
    r = _call(client, admin, "POST", "/api/admin/teams/green/rename", {"name": "teal"})
    assert r.status_code == 200 and any(t["name"] == "teal" for t in r.json()["teams"])
    assert (
        _call(client, admin, "POST", "/api/admin/teams/teal/rename", {"name": "red-team"}).status_code == 409
    )
    assert _call(client, admin, "POST", "/api/admin/teams/nope/rename", {"name": "x"}).status_code == 404
    r = _call(client, admin, "PUT", "/api/admin/agents/A-NEW/team", {"team": "red-team"})
    teams = {t["name"]: t for t in r.json()["teams"]}
    assert "A-NEW" in teams["red-team"]["agents"] and "teal" not in teams
    assert _call(client, admin, "PUT", "/api/admin/agents/A-404/team", {"team": "x"}).status_code == 404
    actions = _actions(client)
    assert ("team_created", "green") in actions and ("team_renamed", "green") in actions
    assert ("agent_moved", "A-NEW") in actions


def test_audit_viewer_verifies_the_chains(world: tuple[TestClient, dict[str, Principal]]) -> None:
    client, who = world
    r = _call(client, who["admin1"], "GET", "/api/admin/audit?actor=admin1&limit=5")
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["verified"] is True and {c["name"] for c in page["chains"]} >= {"audit_log", "alerts"}
    assert 0 < len(page["entries"]) <= 5 and all(e["actor"] == "admin1" for e in page["entries"])
    ids = [e["id"] for e in page["entries"]]
    assert ids == sorted(ids, reverse=True)
    quick = _call(client, who["admin1"], "GET", "/api/admin/audit?action=login&verify=false").json()
    assert quick["verified"] is None and quick["chains"] == [] and quick["entries"]
    assert {e["action"] for e in quick["entries"]} == {"login"}


def test_pack_list_shows_relative_paths_and_lint_names_the_file_once(
    world: tuple[TestClient, dict[str, Principal]],
) -> None:
    client, who = world
    packs = _call(client, who["admin1"], "GET", "/api/admin/rules").json()
    assert {p["file"] for p in packs} >= {"en/abuse.yaml", "zh/compliance.yaml"}
    assert not any(REPO_ROOT in str(p) or p["file"].startswith("/") for p in packs), packs
    lint = _call(client, who["admin1"], "POST", "/api/admin/rules/lint", {"text": "pack: x\n"}).json()
    assert lint["ok"] is False and lint["file"] == "pack.yaml" and "version" in lint["error"], lint
    assert "pack.yaml" not in lint["error"] and "/tmp" not in lint["error"], lint


def test_reports_scope_json_and_csv(world: tuple[TestClient, dict[str, Principal]]) -> None:
    client, who = world
    data = _call(client, who["qa1"], "GET", "/api/reports").json()
    agents = {a["key"]: a for a in data["agents"]}
    assert (
        data["calls"] == 2
        and agents["A-ONE"]["alerts"]["red"] == 1
        and agents["A-TWO"]["alerts"]["orange"] == 1
    )
    assert agents["A-ONE"]["alerts_per_100"]["red"] == 100.0 and agents["A-ONE"]["handoffs"] == 1
    assert {r["rule_id"] for r in data["rules"]} == {"abuse.insult"}
    # a supervisor sees their own team only, whatever they ask for
    mine = _call(client, who["sup_red"], "GET", "/api/reports?team=blue-team").json()
    assert [a["key"] for a in mine["agents"]] == ["A-ONE"] and "atwo" not in str(mine).lower()
    assert _call(client, who["agent1"], "GET", "/api/reports").status_code == 403
    r = _call(client, who["qa1"], "GET", "/api/reports/agents.csv?since=2020-01-01")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {row["agent_id"]: row["alerts_red"] for row in rows} == {"A-ONE": "1", "A-TWO": "0"}
    rules = list(csv.DictReader(io.StringIO(_call(client, who["qa1"], "GET", "/api/reports/rules.csv").text)))
    assert rules[0]["rule_id"] == "abuse.insult" and rules[0]["suggestion"].startswith("too few verdicts")
    bad = _call(client, who["qa1"], "GET", "/api/reports?since=2026-05-01&until=2026-04-01")
    assert bad.status_code == 422 and "before its start" in bad.text
    assert _call(client, who["qa1"], "GET", "/api/reports?since=yesterday").status_code == 422


MINI_PACK = banana_pack("mini", "MINI-1", "0.1.0")


def test_try_packs_on_text(world: tuple[TestClient, dict[str, Principal]]) -> None:
    client, who = world
    admin = who["admin1"]
    r = _call(client, admin, "POST", "/api/admin/rules/try", {"text": "you are a stupid idiot", "lang": "en"})
    assert r.status_code == 200, r.text
    assert any(h["category"] == "insult" or "idiot" in h["evidence"] for h in r.json()["hits"]), r.json()
    r = _call(client, admin, "POST", "/api/admin/rules/try", {"text": "i like a banana", "pack": MINI_PACK})
    assert r.status_code == 200, r.text
    assert [h["rule"] for h in r.json()["hits"]] == ["MINI-1"], r.text
    assert _call(
        client, admin, "POST", "/api/admin/rules/try", {"text": "hello", "pack": MINI_PACK}
    ).json() == {"hits": []}
    bad = _call(client, admin, "POST", "/api/admin/rules/try", {"text": "x", "pack": "pack: x\n"})
    assert bad.status_code == 422 and "pack.yaml" in bad.text and "/tmp" not in bad.text, bad.text
    assert ("rule_pack_tried", "uploaded") in _actions(client)


def test_trying_the_packs_in_use_fires_a_rule_that_waits_for_a_fact(
    world: tuple[TestClient, dict[str, Principal]],
) -> None:
    """EN-3P-2 counts only after the call's ``wrong_party`` fact: tried on text, as if it was said."""
    client, who = world
    text = {"text": "i was calling sarah about an outstanding balance with xyz bank", "lang": "en"}
    r = _call(client, who["admin1"], "POST", "/api/admin/rules/try", text)
    assert r.status_code == 200, r.text
    assert "EN-3P-2" in [h["rule"] for h in r.json()["hits"]], r.text


@pytest.mark.parametrize(
    ("method", "url", "body", "said"),
    [
        ("POST", "/api/admin/users", {"username": "zw", "role": "agent", "agent_id": "A-1\u200b"}, "U+200B"),
        ("POST", "/api/admin/users", {"username": "bd", "role": "agent", "agent_id": "A-\u202e1"}, "U+202E"),
        ("POST", "/api/admin/teams", {"name": "T1\u200b", "agents": ["A-NEW"]}, "U+200B"),
        ("POST", "/api/admin/teams", {"name": "x/y", "agents": ["A-NEW"]}, "must not contain '/'"),
        ("POST", "/api/admin/teams", {"name": "ok", "agents": ["A-\x00"]}, "U+0000"),
        ("PUT", "/api/admin/agents/A-NEW/team", {"team": "a/b"}, "must not contain '/'"),
        ("POST", "/api/qa/forms", {"name": "\x00", "items": [{"key": "a", "en": "A"}]}, "U+0000"),
        (
            "POST",
            "/api/qa/forms",
            {"name": "f", "title": {"a": 1}, "items": [{"key": "a", "en": "A"}]},
            "title",
        ),
        ("POST", "/api/qa/forms", {"name": "f", "items": [{"key": "a", "en": "A", "zh": 7}]}, "'zh'"),
        # a browser fetches /api/admin/users/.. (even written %2E%2E) as /api/admin/: the admin page
        # could never edit, reset or deactivate such a user, rename such a team or move such an agent
        ("POST", "/api/admin/users", {"username": "..", "role": "qa"}, "must not be '.' or '..'"),
        ("POST", "/api/admin/users", {"username": ".", "role": "qa"}, "must not be '.' or '..'"),
        ("POST", "/api/admin/users", {"username": "dots", "role": "agent", "agent_id": ".."}, "'.' or '..'"),
        ("POST", "/api/admin/teams", {"name": ".", "agents": ["A-NEW"]}, "must not be '.' or '..'"),
        ("PUT", "/api/admin/agents/A-NEW/team", {"team": ".."}, "must not be '.' or '..'"),
    ],
)
def test_names_that_look_like_others_or_break_their_routes_are_refused(
    world: tuple[TestClient, dict[str, Principal]], method: str, url: str, body: Any, said: str
) -> None:
    """An agent id or team name with an invisible, bidirectional or control character looks like
    another (``A-1`` and ``A-1`` + U+200B) and is refused where the ingest refuses it; a team name
    with ``/`` could not be renamed (its route split at the slash); a form's title and labels are
    text (a mapping was stored as its Python text)."""
    client, who = world
    if "password" not in body and url == "/api/admin/users":
        body = {**body, "password": PASSWORD}
    with client.app.state.services.db.session() as s:  # type: ignore[attr-defined]
        repo.ensure_agent(s, "A-NEW")
    r = _call(client, who["admin1"], method, url, body)
    assert r.status_code == 422 and said in r.text, r.text


def test_an_agent_whose_id_holds_a_slash_can_be_moved(world: tuple[TestClient, dict[str, Principal]]) -> None:
    """The ingest takes an agent id with ``/`` (``ops/7``); moving that agent was a 404 "Not Found"
    (its route split at the slash), so the admin page's *Move agent* could never move it."""
    client, who = world
    with client.app.state.services.db.session() as s:  # type: ignore[attr-defined]
        repo.ensure_agent(s, "ops/7")
    r = _call(client, who["admin1"], "PUT", "/api/admin/agents/ops%2F7/team", {"team": "slash-team"})
    assert r.status_code == 200, r.text
    assert {"id": "ops/7", "name": "ops/7", "team": "slash-team"} in r.json()["agents"], r.text
    assert ("agent_moved", "ops/7") in _actions(client)


def test_a_team_whose_name_holds_a_slash_can_be_renamed(
    world: tuple[TestClient, dict[str, Principal]],
) -> None:
    """``users add --team ops/east`` takes a team name with ``/`` (the API refuses one for a new
    name); renaming that team was a 404 "Not Found" (its route split at the slash)."""
    client, who = world
    with client.app.state.services.db.session() as s:  # type: ignore[attr-defined]
        repo.ensure_agent(s, "A-OPS", team="ops/east")
    r = _call(client, who["admin1"], "POST", "/api/admin/teams/ops%2Feast/rename", {"name": "ops-east"})
    assert r.status_code == 200, r.text
    assert {"id": "A-OPS", "name": "A-OPS", "team": "ops-east"} in r.json()["agents"], r.text
    assert ("team_renamed", "ops/east") in _actions(client)


@pytest.mark.parametrize("value", ["2026-02-30", "9" * 5000])
def test_a_pack_value_yaml_cannot_build_is_refused_with_its_line(
    world: tuple[TestClient, dict[str, Principal]], value: str
) -> None:
    """A date that is no date or an integer of more than 4300 digits in a pack's YAML was a 500
    from lint, try and upload (YAML's constructor raised a ValueError); now the pack's error."""
    client, who = world
    text = MINI_PACK.replace("version: 0.1.0", f"version: 0.1.0\ndescription: {value}")
    lint = _call(client, who["admin1"], "POST", "/api/admin/rules/lint", {"text": text})
    assert lint.status_code == 200 and lint.json()["ok"] is False, lint.text
    assert lint.json()["error"].startswith("invalid YAML at line 3: "), lint.text
    tried = ("/api/admin/rules/try", {"text": "x", "pack": text})
    for url, body in (tried, ("/api/admin/rules/packs", {"text": text})):
        r = _call(client, who["admin1"], "POST", url, body)
        assert r.status_code == 422 and "invalid YAML at line 3: " in r.json()["detail"], (url, r.text[:300])
