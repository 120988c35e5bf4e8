"""A username is one name whatever its case (``users add alice`` is refused beside ``Alice``), so
signing in, the failed sign-in limit, the admin API and the audit log treat it so too (real
application, real database, SQLite and PostgreSQL).

Before, signing in as ``alice`` failed for the user ``Alice`` (401), and ``PATCH`` or
``end-sessions`` of ``/api/admin/users/alice`` was a 404. Now the one user is found; the session,
the answers and the audit log carry the stored name ``Alice``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from agent_monitor.accounts.passwords import hash_password
from agent_monitor.model.roles import Role
from agent_monitor.settings import Settings
from agent_monitor.storage import repo
from tests.agent_monitor.storage.conftest import BACKENDS
from tests.web.auth_support import PASSWORD, Principal, app_settings, running, sign_in
from tests.web.backend_support import backend_database


@pytest.fixture(scope="module", params=BACKENDS)
def client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, base_settings: Settings
) -> Iterator[TestClient]:
    settings = app_settings(base_settings, tmp_path_factory.mktemp("case") / "data", login_max_failures=3)
    with backend_database(str(request.param), "the username case tests") as url:
        if url is not None:
            settings = settings.model_copy(update={"database_url": url})
        with running(settings) as c:
            pw_hash = hash_password(PASSWORD)
            with c.app.state.services.db.session() as s:  # type: ignore[attr-defined]
                repo.create_user(s, "Alice", pw_hash, Role.QA)
                repo.create_user(s, "Boss", pw_hash, Role.ADMIN)
                repo.create_user(s, "Mallory", pw_hash, Role.QA)
            yield c


def _audit(client: TestClient, actor: str) -> list[tuple[str, str | None]]:
    with client.app.state.services.db.session() as s:  # type: ignore[attr-defined]
        return [(e.action, e.object_id) for e in repo.list_audit(s, actor=actor, limit=100)]


def _login(client: TestClient, username: str, password: str = PASSWORD) -> int:
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    client.cookies.clear()
    return response.status_code


def test_signing_in_in_another_case_finds_the_one_user(client: TestClient) -> None:
    response = client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    assert response.status_code == 200, response.text
    assert response.json()["username"] == "Alice" and response.json()["role"] == "qa"
    client.cookies.clear()
    alice = Principal("Alice", response.cookies.get("am_session"), response.cookies.get("am_csrf"))
    me = client.get("/api/auth/me", headers=alice.headers(csrf=False))
    assert me.status_code == 200 and me.json()["username"] == "Alice"
    assert ("login", "Alice") in _audit(client, "Alice"), "the audit carries the stored name"
    assert _audit(client, "alice") == []
    # the same on the sign-in page
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert found is not None
    form = {"username": "ALICE", "password": PASSWORD, "csrf": found.group(1), "next": "/"}
    posted = client.post("/login", data=form, follow_redirects=False)
    client.cookies.clear()
    assert posted.status_code == 303, posted.text


def test_the_failed_sign_in_limit_counts_every_case_as_one_name(client: TestClient) -> None:
    for typed in ("mallory", "MALLORY", "mAlLoRy"):
        assert _login(client, typed, "not the password") == 401
    assert _login(client, "Mallory") == 429, "a fourth case must not be a fresh name to guess on"
    assert _login(client, "mallory") == 429
    failed = [a for a in _audit(client, "Mallory") if a[0] == "login_failed"]
    assert failed == [("login_failed", "Mallory")] * 3, "failures are the stored user's"
    assert [a for a in _audit(client, "Mallory") if a[0] == "login_throttled"] == [
        ("login_throttled", "Mallory")
    ] * 2


def test_the_admin_api_finds_the_user_whatever_the_case(client: TestClient) -> None:
    boss, alice = sign_in(client, "Boss"), sign_in(client, "Alice")
    changed = client.patch("/api/admin/users/alice", json={"team": "east"}, headers=boss.headers())
    assert changed.status_code == 200, changed.text
    assert changed.json()["username"] == "Alice" and changed.json()["team"] == "east"
    ended = client.post("/api/admin/users/aLICE/end-sessions", headers=boss.headers())
    assert ended.status_code == 200, ended.text
    assert ended.json()["username"] == "Alice"
    assert client.get("/api/auth/me", headers=alice.headers(csrf=False)).status_code == 401
    # the last active admin stays one, whatever case names them
    last = client.patch("/api/admin/users/BOSS", json={"active": False}, headers=boss.headers())
    assert last.status_code == 409, last.text
    assert ("user_updated", "Alice") in _audit(client, "Boss")
    assert ("sessions_ended", "Alice") in _audit(client, "Boss")
    unknown = client.patch("/api/admin/users/nobody", json={"team": "x"}, headers=boss.headers())
    assert unknown.status_code == 404
