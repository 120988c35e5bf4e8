"""The authorization matrix: every route of the application against every kind of caller.

Each route (REST, page, websocket, mount) must have an entry in
:data:`tests.web.authz_table.MATRIX`; a route added
without one fails :func:`test_every_route_has_a_matrix_entry`. Each entry says who may use it:
nobody signed in (public), the ingest token (machines), the metrics token (the Prometheus
scraper), or a set of roles; ``call`` names the
stored call the request is about, so a role that is allowed in general is still refused a call
outside its scope (an agent: other agents' calls; a supervisor: other teams'; QA: live calls).

Callers: anonymous, agent1 (agent A-ONE, team red), agent2 (agent A-TWO, team blue), sup_red,
sup_blue, qa1, admin1, the ingest client and the metrics scraper. Allowed: a 2xx/3xx answer (or a
listed code such as 409 for a state conflict) and an accepted websocket; refused: 401 (or a
redirect to /login for pages), 403, or 404 for a call outside the caller's scope, and websocket
close 1008. Every answer an agent (or supervisor) gets is also searched for the ids of calls they
may not see.

Real application, real SQLite database, real Vosk model; calls stored through the repository
with real recorded audio (:func:`tests.web.ui_support.add_call`) plus one live call started in
the real call manager.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from pydantic import SecretStr
from starlette.routing import Mount
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.roles import Role
from agent_monitor.model.session import CallInfo
from agent_monitor.settings import Settings
from agent_monitor.storage import repo
from tests.web.auth_support import Principal, add_users, app_settings, running, sign_in
from tests.web.authz_table import (
    CALL1,
    CALL2,
    CALLERS,
    FORBIDDEN_TEXT,
    INGEST,
    LIVE1,
    MACHINES,
    MATRIX,
    METRICS,
    METRICS_TOKEN,
    OTHER_AGENT,
    OTHER_USER,
    PUBLIC,
    ROLE_OF,
    VISIBLE,
    Access,
)
from tests.web.ui_support import add_call


def app_routes(app: Any) -> set[tuple[str, str | None]]:
    """(method or WS or MOUNT, path) of every route the application serves."""
    found: set[tuple[str, str | None]] = set()
    for ctx in iter_route_contexts(app.routes):
        route = ctx.original_route
        if isinstance(route, Mount):
            found.add(("MOUNT", ctx.path))
        elif ctx.methods:
            found.update((m, ctx.path) for m in ctx.methods if m != "HEAD")
        else:
            found.add(("WS", ctx.path))
    return found


@dataclass
class World:
    client: TestClient
    callers: dict[str, Principal]
    alert_id: int
    ingest_token: str


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, base_settings: Settings, real_call: CallAudio
) -> Iterator[World]:
    data = tmp_path_factory.mktemp("matrix") / "data"
    settings = app_settings(base_settings, data, metrics_token=SecretStr(METRICS_TOKEN))
    with running(settings) as client:
        add_users(client)
        services = client.app.state.services  # type: ignore[attr-defined]
        with services.db.session() as s:
            repo.ensure_agent(s, OTHER_AGENT)
            repo.create_user(s, OTHER_USER, "not-a-hash", Role.QA)
        clip = real_call.excerpt(0.0, 6.0)
        add_call(services.db, data, CALL1, "A-ONE", clip, WarningLevel.RED)
        add_call(services.db, data, CALL2, "A-TWO", clip, WarningLevel.RED)
        with services.db.session() as s:
            alert_id = repo.list_alerts(s, call_id=CALL1)[0].id
        assert client.portal is not None
        client.portal.call(services.manager.start_call, CallInfo(call_id=LIVE1, agent_id="A-ONE"))
        callers = {name: sign_in(client, name) for name in ROLE_OF}
        callers["anonymous"] = Principal(None)
        token = client.app.state.auth.ingest_token  # type: ignore[attr-defined]
        callers["ingest"] = Principal(None, extra={"Authorization": f"Bearer {token}"})
        callers["metrics"] = Principal(None, extra={"Authorization": f"Bearer {METRICS_TOKEN}"})
        yield World(client, callers, alert_id, token)


def test_every_route_has_a_matrix_entry(world: World) -> None:
    served = app_routes(world.client.app)
    missing = sorted(served - set(MATRIX))
    assert not missing, f"routes without an authorization matrix entry: {missing}"
    stale = sorted(set(MATRIX) - served)
    assert not stale, f"matrix entries for routes that do not exist: {stale}"


def expected_allowed(caller: str, access: Access) -> bool:
    if access.who == PUBLIC:
        return True
    if access.who in (INGEST, METRICS):
        return caller == access.who
    assert isinstance(access.who, frozenset)
    if ROLE_OF.get(caller) not in access.who:
        return False
    return access.call is None or caller in VISIBLE[access.call]


def concrete(path: str, access: Access, world: World) -> str:
    values = {
        "call_id:path": access.call or CALL1,
        "leg": "agent",
        "alert_id": str(world.alert_id),
        "username": "qa1",
        **access.params,
    }
    for key, value in values.items():
        path = path.replace("{" + key + "}", value)
    assert "{" not in path, f"no test value for a parameter of {path}"
    return path + access.query


def body_of(access: Access) -> Any:
    body = access.body
    if isinstance(body, dict) and body.get("uuid") == "":
        body = {**body, "uuid": str(uuid.uuid4())}
    return body


def check_no_leak(caller: str, text: str, where: str) -> None:
    for secret in FORBIDDEN_TEXT.get(caller, ()):
        assert secret not in text, f"{caller} got {secret!r} from {where}"


def http_case(world: World, method: str, path: str, access: Access, caller: str) -> None:
    client = world.client
    principal = world.callers[caller]
    if access.ends_session and principal.username:
        principal = sign_in(client, principal.username)
    url = "/ui/static/" if path == "/ui/static" else concrete(path, access, world)
    kwargs: dict[str, Any] = {"headers": principal.headers(), "follow_redirects": False}
    if method == "MOUNT":
        method = "GET"
    if access.body is not None:
        kwargs["json"] = body_of(access)
    response = client.request(method, url, **kwargs)
    client.cookies.clear()
    status = response.status_code
    where = f"{method} {url} as {caller}: {status} {response.text[:200]}"
    assert status < 500, where
    assert method != "HEAD" or response.content == b"", f"{where}: a HEAD answer has no body"
    if expected_allowed(caller, access):
        assert status < 400 or status in access.ok or (access.who == PUBLIC and status == 404), where
        if caller == "anonymous" or access.who in (INGEST, METRICS):
            return
        check_no_leak(caller, response.text, where)
        return
    if access.who in (INGEST, METRICS):
        assert status == 401, where  # a session (or the other token) does not replace the token
    elif caller in MACHINES and not url.startswith(("/api/", "/openapi.json")):
        assert status == 303 and response.headers["location"].startswith("/login?next="), where
    elif caller in MACHINES:
        assert status == 401, where
    elif access.call is not None and ROLE_OF[caller] in access.who:
        assert status in (403, 404), where  # allowed role, call outside its scope
    else:
        assert status == 403, where


def ws_case(world: World, path: str, access: Access, caller: str) -> None:
    url = concrete(path, access, world)
    headers = world.callers[caller].headers(csrf=False)
    allowed = expected_allowed(caller, access)
    where = f"WS {url} as {caller}"
    try:
        with world.client.websocket_connect(url, headers=headers) as ws:
            if not allowed and access.ws_probe is not None:
                ws.send_json(access.ws_probe)
                ws.receive_json()  # the close 1008 is raised here
            assert allowed, f"{where}: accepted, should be refused"
            if path == "/ws/events" or path == "/ws/ui/live":
                first = ws.receive_json()
                assert first["type"] == "subscribed", where
    except WebSocketDisconnect as closed:
        assert not allowed, f"{where}: refused with {closed.code}, should be accepted"
        assert closed.code == 1008, f"{where}: closed with {closed.code}"


@pytest.mark.parametrize("caller", CALLERS)
def test_matrix(world: World, caller: str) -> None:
    served = app_routes(world.client.app)
    problems: list[str] = []
    for (method, path), access in sorted(MATRIX.items()):
        if (method, path) not in served:
            continue  # reported by test_every_route_has_a_matrix_entry
        try:
            if method == "WS":
                ws_case(world, path, access, caller)
            else:
                http_case(world, method, path, access, caller)
        except AssertionError as exc:  # collected: every route is checked, all problems shown
            problems.append(str(exc).splitlines()[0])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("caller", CALLERS)
def test_head_is_refused_and_allowed_as_get(world: World, caller: str) -> None:
    """Every route that answers GET answers HEAD (a monitoring probe's ``HEAD /healthz``, ``curl -I``
    on a page or a static file: a 405 before), to the same callers as GET and refusing the same
    ones: the expectations of :data:`MATRIX`'s GET entries, checked with HEAD, with no body."""
    served = app_routes(world.client.app)
    problems: list[str] = []
    for (method, path), access in sorted(MATRIX.items()):
        if method not in ("GET", "MOUNT") or (method, path) not in served:
            continue
        try:
            http_case(world, "HEAD", path, access, caller)
        except AssertionError as exc:
            problems.append(str(exc).splitlines()[0])
    assert not problems, "\n".join(problems)


def test_each_caller_sees_only_its_calls_in_listings(world: World) -> None:
    client = world.client
    expect = {
        "agent1": ({CALL1, LIVE1}, {CALL2}),
        "agent2": ({CALL2}, {CALL1, LIVE1}),
        "sup_red": ({CALL1, LIVE1}, {CALL2}),
        "sup_blue": ({CALL2}, {CALL1, LIVE1}),
        "qa1": ({CALL1, CALL2}, {LIVE1}),
        "admin1": ({CALL1, CALL2, LIVE1}, set()),
    }
    for caller, (must, must_not) in expect.items():
        r = client.get("/api/calls", headers=world.callers[caller].headers())
        ids = {c["id"] if "id" in c else c.get("call_id") for c in r.json()["calls"]}
        assert must <= ids and not (must_not & ids), (caller, ids)


@pytest.mark.parametrize("path", ["/ws/events", "/ws/ui/live"])
def test_live_events_reach_only_callers_in_scope(world: World, path: str) -> None:
    """A warning published on the real bus for agent A-ONE's live call reaches agent1, sup_red and
    admin1, and never agent2, sup_blue or qa1. After it, a marker event the caller may see is
    published; the bus keeps order, so once the marker arrives the warning was either delivered
    or withheld."""
    from agent_monitor.model.events import AgentWarning, QaQueued
    from agent_monitor.model.levels import WarningLevel
    from agent_monitor.model.rules import HitStatus

    def warning(call_id: str, agent_id: str, rule: str) -> AgentWarning:
        return AgentWarning(
            call_id=call_id,
            t=1.0,
            agent_id=agent_id,
            rule=rule,
            title="Insult",
            severity="red",
            evidence="you idiot",
            reason="abuse",
            compliant=None,
            hit_status=HitStatus.CONFIRMED,
        )

    services = world.client.app.state.services  # type: ignore[attr-defined]
    portal = world.client.portal
    assert portal is not None
    secret = warning(LIVE1, "A-ONE", "abuse.secret")
    markers = {
        "agent1": warning(CALL1, "A-ONE", "marker"),
        "sup_red": warning(CALL1, "A-ONE", "marker"),
        "admin1": warning(CALL2, "A-TWO", "marker"),
        "agent2": warning(CALL2, "A-TWO", "marker"),
        "sup_blue": warning(CALL2, "A-TWO", "marker"),
        "qa1": QaQueued(call_id=CALL2, t=1.0, level=WarningLevel.RED, reason="marker"),
    }
    if path == "/ws/ui/live":
        del markers["qa1"]  # QA has no live page (refused by the matrix)
    for caller, marker in markers.items():
        headers = world.callers[caller].headers(csrf=False)
        with world.client.websocket_connect(path, headers=headers) as ws:
            assert ws.receive_json()["type"] == "subscribed"
            portal.call(services.bus.publish, secret)
            portal.call(services.bus.publish, marker)
            received = []
            while True:
                event = ws.receive_json()
                if event.get("rule") == "marker" or event.get("reason") == "marker":
                    break
                received.append(event)
        got_secret = any(e.get("rule") == "abuse.secret" for e in received)
        assert got_secret == (caller in ("agent1", "sup_red", "admin1")), (caller, received)
        check_no_leak(caller, json.dumps(received), f"{path} as {caller}")


def test_replay_download_and_export_are_audited(world: World) -> None:
    """Each recording download and evidence export adds an audit record naming the user and call."""
    client = world.client
    services = client.app.state.services  # type: ignore[attr-defined]

    def records() -> list[Any]:
        with services.db.session() as s:
            return [
                (e.action, e.object_id, e.at)
                for e in repo.list_audit(s, actor="qa1", limit=10000)
                if CALL1 in (e.object_id or "")
            ]

    for url in (
        f"/api/calls/{CALL1}/recordings/agent.wav",
        f"/api/calls/{CALL1}/recordings/debtor.wav",
        f"/api/calls/{CALL1}/export.zip",
    ):
        before = len(records())
        r = client.get(url, headers=world.callers["qa1"].headers())
        assert r.status_code == 200, (url, r.text[:200])
        assert len(records()) == before + 1, url
    # a refused request is not recorded as a served export
    r = client.get(f"/api/calls/{CALL2}/export.zip", headers=world.callers["agent1"].headers())
    assert r.status_code in (403, 404)
    with services.db.session() as s:
        served = [e for e in repo.list_audit(s, actor="agent1", limit=10000) if CALL2 in (e.object_id or "")]
    assert not served


def test_unsafe_routes_need_the_csrf_token(world: World) -> None:
    """Every POST/PUT/PATCH/DELETE used with a session is refused (403) without ``X-CSRF-Token``,
    even for a caller who may use it."""
    client = world.client
    checked = 0
    for (method, path), access in sorted(MATRIX.items()):
        if method not in ("POST", "PUT", "PATCH", "DELETE") or not isinstance(access.who, frozenset):
            continue
        caller = next(c for c in ROLE_OF if expected_allowed(c, access))
        kwargs: dict[str, Any] = {"headers": world.callers[caller].headers(csrf=False)}
        if access.body is not None:
            kwargs["json"] = body_of(access)
        r = client.request(method, concrete(path, access, world), **kwargs)
        assert r.status_code == 403 and "CSRF" in r.text, (method, path, caller, r.status_code, r.text[:200])
        checked += 1
    assert checked >= 8
