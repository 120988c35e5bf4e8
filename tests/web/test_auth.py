"""Sign-in, sessions, CSRF, rate limiting, admin user management and audit records, against the
real application and a real SQLite database."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from agent_monitor.settings import Settings
from agent_monitor.storage import repo
from tests.web.auth_support import PASSWORD, add_users, app_settings, running, sign_in


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, base_settings: Settings) -> Iterator[TestClient]:
    data = tmp_path_factory.mktemp("auth") / "data"
    with running(app_settings(base_settings, data, login_max_failures=3)) as c:
        add_users(c)
        yield c


def audit_actions(client: TestClient, actor: str) -> list[str]:
    with client.app.state.services.db.session() as s:  # type: ignore[attr-defined]
        return [e.action for e in repo.list_audit(s, actor=actor, limit=1000)]


def test_secrets_are_generated_private_and_stable(client: TestClient) -> None:
    data: Path = client.app.state.services.settings.data_dir  # type: ignore[attr-defined]
    key = data / "web-secret.key"
    assert key.is_file(), "the signing key is made at first start, never a default"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert len(key.read_text().strip()) >= 32
    token = data / "ingest-token"
    assert stat.S_IMODE(os.stat(token).st_mode) == 0o600 and len(token.read_text().strip()) >= 32
    # read back, not regenerated, by the next start
    auth = client.app.state.auth  # type: ignore[attr-defined]
    from agent_monitor.accounts.secrets import ingest_token, secret_key

    assert secret_key(auth.settings) == key.read_text().strip().encode()
    assert ingest_token(auth.settings) == auth.ingest_token


def test_login_sets_hardened_cookies_and_me_works(client: TestClient) -> None:
    response = client.post("/api/auth/login", json={"username": "agent1", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "agent1" and body["role"] == "agent" and body["agent_id"] == "A-ONE"
    cookies = response.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("am_session="))
    assert "HttpOnly" in session and "SameSite=lax" in session and "Max-Age=" in session
    csrf = next(c for c in cookies if c.startswith("am_csrf="))
    assert "HttpOnly" not in csrf
    me = client.get("/api/auth/me")
    assert me.status_code == 200 and me.json()["username"] == "agent1"
    assert me.json()["csrf_token"] == body["csrf_token"]
    client.cookies.clear()
    assert "login" in audit_actions(client, "agent1")


def test_wrong_password_and_unknown_user_look_the_same(client: TestClient) -> None:
    bad = client.post("/api/auth/login", json={"username": "qa1", "password": "nope nope nope"})
    unknown = client.post("/api/auth/login", json={"username": "ghost", "password": "nope nope nope"})
    assert bad.status_code == unknown.status_code == 401
    assert bad.json() == unknown.json()
    assert "am_session" not in bad.cookies
    assert "login_failed" in audit_actions(client, "qa1")
    assert "login_failed" in audit_actions(client, "ghost")


def test_login_is_rate_limited_per_user_and_address(client: TestClient) -> None:
    for _ in range(3):
        r = client.post("/api/auth/login", json={"username": "sup_blue", "password": "wrong password!"})
        assert r.status_code == 401
    r = client.post("/api/auth/login", json={"username": "sup_blue", "password": PASSWORD})
    assert r.status_code == 429, "even the right password waits once the limit is reached"
    assert int(r.headers["Retry-After"]) >= 1
    assert "login_throttled" in audit_actions(client, "sup_blue")
    # another user from the same address is not blocked by sup_blue's failures
    assert (
        client.post("/api/auth/login", json={"username": "sup_red", "password": PASSWORD}).status_code == 200
    )
    client.cookies.clear()


def test_login_needs_json_not_a_cross_site_form(client: TestClient) -> None:
    r = client.post(
        "/api/auth/login",
        content=f"username=agent1&password={PASSWORD}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 422
    assert "am_session" not in r.cookies


def test_anonymous_api_gets_401_and_pages_redirect_to_login(client: TestClient) -> None:
    assert client.get("/api/auth/me").status_code == 401
    assert client.get("/api/admin/users").status_code == 401
    assert client.get("/openapi.json").status_code == 401
    r = client.get("/api-docs", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fapi-docs"
    assert client.get("/docs").status_code == 404, "the CDN-based doc pages are gone"


def test_tampered_or_foreign_cookie_is_refused(client: TestClient) -> None:
    p = sign_in(client, "admin1")
    assert p.session is not None
    head, body, sig = p.session.split(".")
    forged = body[:-2] + ("AA" if body[-2:] != "AA" else "BB")
    for value in (f"{head}.{forged}.{sig}", p.session + "x", "v1.e30.", "garbage"):
        r = client.get("/api/auth/me", headers={"Cookie": f"am_session={value}"})
        assert r.status_code == 401, value


def test_csrf_is_required_for_unsafe_requests(client: TestClient) -> None:
    p = sign_in(client, "admin1")
    new = {"username": "csrf_victim", "password": PASSWORD, "role": "qa"}
    r = client.post("/api/admin/users", json=new, headers=p.headers(csrf=False))
    assert r.status_code == 403
    r = client.post("/api/admin/users", json=new, headers={**p.headers(csrf=False), "X-CSRF-Token": "x" * 43})
    assert r.status_code == 403
    other = sign_in(client, "qa1")
    assert other.csrf is not None  # a valid token of another session does not pass either
    r = client.post(
        "/api/admin/users", json=new, headers={**p.headers(csrf=False), "X-CSRF-Token": other.csrf}
    )
    assert r.status_code == 403
    r = client.post("/api/admin/users", json=new, headers=p.headers())
    assert r.status_code == 201, r.text


def test_logout_ends_the_session_at_once(client: TestClient) -> None:
    p = sign_in(client, "qa1")
    assert client.post("/api/auth/logout", headers=p.headers(csrf=False)).status_code == 403
    r = client.post("/api/auth/logout", headers=p.headers())
    assert r.status_code == 204
    assert client.get("/api/auth/me", headers=p.headers()).status_code == 401
    assert "logout" in audit_actions(client, "qa1")


def test_admin_manages_users_and_changes_take_effect_at_once(client: TestClient) -> None:
    admin = sign_in(client, "admin1")
    h = admin.headers()
    r = client.post(
        "/api/admin/users",
        json={"username": "newagent", "password": PASSWORD, "role": "agent", "agent_id": "A-NEW"},
        headers=h,
    )
    assert r.status_code == 201 and r.json()["agent_id"] == "A-NEW"
    assert "password" not in r.text and "argon2" not in r.text
    short = {"username": "weak", "password": "short", "role": "qa"}
    assert client.post("/api/admin/users", json=short, headers=h).status_code == 422
    dup = {"username": "newagent", "password": PASSWORD, "role": "qa"}
    assert client.post("/api/admin/users", json=dup, headers=h).status_code == 409
    no_agent = {"username": "agentless", "password": PASSWORD, "role": "agent"}
    assert client.post("/api/admin/users", json=no_agent, headers=h).status_code == 422

    user = sign_in(client, "newagent")
    assert client.get("/api/auth/me", headers=user.headers()).json()["role"] == "agent"
    r = client.patch("/api/admin/users/newagent", json={"role": "qa"}, headers=h)
    assert r.status_code == 200 and r.json()["role"] == "qa"
    assert client.get("/api/auth/me", headers=user.headers()).json()["role"] == "qa"
    r = client.patch("/api/admin/users/newagent", json={"active": False}, headers=h)
    assert r.status_code == 200 and r.json()["active"] is False
    assert client.get("/api/auth/me", headers=user.headers()).status_code == 401
    r = client.post("/api/auth/login", json={"username": "newagent", "password": PASSWORD})
    assert r.status_code == 401
    client.patch("/api/admin/users/newagent", json={"active": True}, headers=h)
    assert client.get("/api/auth/me", headers=user.headers()).status_code == 200
    # a new password ends the sessions made with the old one
    r = client.patch("/api/admin/users/newagent", json={"password": "another long password"}, headers=h)
    assert r.status_code == 200
    assert client.get("/api/auth/me", headers=user.headers()).status_code == 401
    sign_in(client, "newagent", "another long password")

    listed = client.get("/api/admin/users", headers=h).json()
    assert {"newagent", "admin1", "agent1"} <= {u["username"] for u in listed}
    actions = audit_actions(client, "admin1")
    assert "user_created" in actions and "user_updated" in actions
    assert client.patch("/api/admin/users/nobody", json={"active": False}, headers=h).status_code == 404


def test_last_admin_cannot_be_removed(client: TestClient) -> None:
    admin = sign_in(client, "admin1")
    r = client.patch("/api/admin/users/admin1", json={"active": False}, headers=admin.headers())
    assert r.status_code == 409
    r = client.patch("/api/admin/users/admin1", json={"role": "qa"}, headers=admin.headers())
    assert r.status_code == 409
    assert client.get("/api/auth/me", headers=admin.headers()).json()["role"] == "admin"


def test_rule_packs_are_listed_and_linted(client: TestClient) -> None:
    admin = sign_in(client, "admin1")
    packs = client.get("/api/admin/rules", headers=admin.headers()).json()
    assert packs and all(p["ok"] for p in packs), packs
    assert {"en", "zh"} <= {Path(p["file"]).parent.name for p in packs}
    bad = client.post(
        "/api/admin/rules/lint", json={"text": "pack: x\nversion: 1\n"}, headers=admin.headers()
    )
    assert bad.status_code == 200 and bad.json()["ok"] is False
    assert "version" in bad.json()["error"] and "\n" not in bad.json()["error"]
    # files are named relative to the configured pack folder, never by the server's absolute path
    assert not any(Path(p["file"]).is_absolute() for p in packs), packs
    folder = client.app.state.services.settings.rules.packs[0]  # type: ignore[attr-defined]
    good_text = (folder / packs[0]["file"]).read_text(encoding="utf-8")
    good = client.post("/api/admin/rules/lint", json={"text": good_text}, headers=admin.headers())
    assert good.json()["ok"] is True and good.json()["rules"] == packs[0]["rules"]


def test_login_page_form_flow_in_both_languages(client: TestClient) -> None:
    assert "Sign in" in client.get("/login", headers={"Accept-Language": "en-US"}).text
    page = client.get("/login?next=/qa", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert page.status_code == 200 and "登录" in page.text
    assert "http://" not in page.text and "https://" not in page.text, "no external assets"
    assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    form = {"csrf": csrf.group(1), "next": "/qa", "username": "qa1", "password": PASSWORD}
    r = client.post("/login", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/qa"
    assert r.cookies.get("am_session")
    client.cookies.clear()
    # without the login page's cookie (a cross-site form) the form is refused
    r = client.post("/login", data=form, follow_redirects=False)
    assert r.status_code == 403 and "am_session" not in r.cookies
    # an open redirect is not possible
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    form = {"csrf": csrf.group(1), "next": "//evil.example/x", "username": "qa1", "password": PASSWORD}
    r = client.post("/login", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    client.cookies.clear()


def test_websocket_needs_session_and_same_origin(client: TestClient) -> None:
    admin = sign_in(client, "admin1")
    with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("/ws/events"):
        pass
    assert closed.value.code == 1008
    foreign = {**admin.headers(), "Origin": "http://evil.example"}
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect("/ws/events", headers=foreign),
    ):
        pass
    assert closed.value.code == 1008
    same = {**admin.headers(), "Origin": "http://testserver"}
    with client.websocket_connect("/ws/events", headers=same) as ws:
        assert ws.receive_json()["type"] == "subscribed"


def test_api_answers_are_not_cached_and_big_forms_are_refused(client: TestClient) -> None:
    p = sign_in(client, "qa1")
    r = client.get("/api/auth/me", headers=p.headers())
    assert r.headers["cache-control"] == "no-store" and r.headers["x-content-type-options"] == "nosniff"
    r = client.post(
        "/login",
        content=b"username=" + b"x" * 20000,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 413


def test_ingest_needs_the_ingest_token(client: TestClient) -> None:
    token = client.app.state.auth.ingest_token  # type: ignore[attr-defined]
    admin = sign_in(client, "admin1")
    for headers in ({}, {"Authorization": "Bearer wrong-token"}, admin.headers()):
        with (
            pytest.raises(WebSocketDisconnect) as closed,
            client.websocket_connect("/ws/ingest", headers=headers),
        ):
            pass
        assert closed.value.code == 1008
    start = {
        "type": "start",
        "call_id": "tok-1",
        "agent_id": "A-ONE",
        "sample_rate": 8000,
        "encoding": "L16",
        "channels": ["agent", "debtor"],
    }
    for url, headers in (
        ("/ws/ingest", {"Authorization": f"Bearer {token}"}),
        (f"/ws/ingest?token={token}", {}),
    ):
        with client.websocket_connect(url, headers=headers) as ws:
            ws.send_json({**start, "call_id": f"tok-{len(url)}"})
            assert ws.receive_json()["type"] == "started"
            ws.send_json({"type": "stop"})
            assert ws.receive_json()["type"] == "stopped"
    r = client.post("/api/audiosocket/register", json={}, headers=admin.headers())
    assert r.status_code == 401, "a user session is not the ingest token"


def test_twilio_token_travels_in_the_start_event(client: TestClient) -> None:
    token = client.app.state.auth.ingest_token  # type: ignore[attr-defined]

    def start(params: dict[str, str]) -> dict[str, object]:
        return {
            "event": "start",
            "sequenceNumber": "1",
            "streamSid": "MZauth",
            "start": {
                "streamSid": "MZauth",
                "callSid": "CAauth" + str(len(params)),
                "tracks": ["inbound", "outbound"],
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                "customParameters": params,
            },
        }

    connected = {"event": "connected", "protocol": "Call", "version": "1.0.0"}
    for params in ({"agent_id": "A-ONE"}, {"agent_id": "A-ONE", "token": "wrong"}):
        with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("/ws/twilio") as ws:
            ws.send_json(connected)
            ws.send_json(start(params))
            ws.receive_json()
        assert closed.value.code == 1008
    with client.websocket_connect("/ws/twilio") as ws:
        ws.send_json(connected)
        ws.send_json(start({"agent_id": "A-ONE", "token": token, "call_id": "tw-auth-1"}))
        ws.send_json({"event": "stop", "sequenceNumber": "2", "streamSid": "MZauth", "stop": {}})
        with pytest.raises(WebSocketDisconnect):
            ws.receive_json()
    with client.app.state.services.db.session() as s:  # type: ignore[attr-defined]
        call = repo.get_call(s, "tw-auth-1")
        assert call.agent_id == "A-ONE" and call.source_protocol == "twilio"


def test_demo_accounts_get_fresh_random_passwords(client: TestClient) -> None:
    from agent_monitor.accounts.demo import DEMO_TEAM, ensure_demo_users

    db = client.app.state.services.db  # type: ignore[attr-defined]
    first = {a.username: a for a in ensure_demo_users(db, ["demo-agent-1"])}
    assert set(first) == {"demo-supervisor", "demo-qa", "demo-admin", "demo-agent-1"}
    sup = sign_in(client, "demo-supervisor", first["demo-supervisor"].password)
    me = client.get("/api/auth/me", headers=sup.headers()).json()
    assert me["role"] == "supervisor" and me["team"] == DEMO_TEAM
    agent = sign_in(client, "demo-agent-1", first["demo-agent-1"].password)
    assert client.get("/api/auth/me", headers=agent.headers()).json()["agent_id"] == "demo-agent-1"
    second = {a.username: a for a in ensure_demo_users(db, ["demo-agent-1"])}
    assert second["demo-qa"].password != first["demo-qa"].password
    old = client.post("/api/auth/login", json={"username": "demo-qa", "password": first["demo-qa"].password})
    assert old.status_code == 401
    assert client.get("/api/auth/me", headers=sup.headers()).status_code == 401, "old sessions end"
    with db.session() as s:
        assert repo.get_agent(s, "demo-agent-1").team == DEMO_TEAM


def test_openapi_describes_the_api_and_its_security(client: TestClient) -> None:
    p = sign_in(client, "qa1")
    spec = client.get("/openapi.json", headers=p.headers()).json()
    assert {"/api/auth/login", "/api/admin/users", "/api/calls/{call_id}"} <= set(spec["paths"])
    assert set(spec["components"]["securitySchemes"]) == {"session", "csrf", "ingest"}
    assert "X-CSRF-Token" in spec["info"]["description"]
    page = client.get("/api-docs", headers=p.headers())
    assert page.status_code == 200 and "/api/admin/users" in page.text and "<script" not in page.text
