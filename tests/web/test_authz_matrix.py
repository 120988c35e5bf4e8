"""The authorization matrix: every route of the application against every kind of caller.

Each route (REST, page, websocket, mount) must have an entry in :data:`MATRIX`; a route added
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
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from pydantic import SecretStr
from starlette.routing import Mount
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.session import CallInfo
from agent_monitor.settings import Settings
from agent_monitor.storage import repo
from tests.web.auth_support import PASSWORD, Principal, add_users, app_settings, running, sign_in
from tests.web.ui_support import add_call

CALL1 = "mx-call-aone"  # ended, red, agent A-ONE (team red)
CALL2 = "mx-call-atwo"  # ended, red, agent A-TWO (team blue)
LIVE1 = "mx-live-aone"  # live, agent A-ONE
#: who may see each call (written out, not computed by the code under test)
VISIBLE = {
    CALL1: {"agent1", "sup_red", "qa1", "admin1"},
    LIVE1: {"agent1", "sup_red", "admin1"},
}
#: text that must never reach these callers (ids of calls and agents outside their scope)
FORBIDDEN_TEXT = {
    "agent1": ("atwo", "A-TWO"),
    "agent2": ("aone", "A-ONE"),
    "sup_red": ("atwo", "A-TWO"),
    "sup_blue": ("aone", "A-ONE"),
    "qa1": (LIVE1,),
}
#: a Twilio start event without the token parameter
TWILIO_START = {
    "event": "start",
    "sequenceNumber": "1",
    "streamSid": "MZmatrix",
    "start": {
        "streamSid": "MZmatrix",
        "callSid": "CAmatrix",
        "tracks": ["inbound", "outbound"],
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        "customParameters": {"agent_id": "A-ONE"},
    },
}
#: a user, an agent and a team the admin routes change, outside what the other callers see
OTHER_USER, OTHER_AGENT, OTHER_TEAM = "mx_other", "A-MX", "mx-team"
#: a rule pack the admin uploads (its rule id clashes with no installed pack)
MX_PACK = """pack: mx-pack
version: 1.0.0
rules:
  - id: MX-1
    title: Says kumquat
    category: profanity
    severity: yellow
    languages: [en]
    leg: agent
    patterns: ["kumquat"]
    citation: test
    compliant: say something else
    examples:
      positive: ["a kumquat for you"]
      negative: ["an apple for you"]
"""
PUBLIC = "public"
INGEST = "ingest"
#: the Prometheus scraper's bearer token (``web.metrics_token``)
METRICS = "metrics"
METRICS_TOKEN = "matrix-metrics-token-" + "s" * 16
ALL_ROLES = frozenset({"agent", "supervisor", "qa", "admin"})
CALLERS = ("anonymous", "agent1", "agent2", "sup_red", "sup_blue", "qa1", "admin1", "ingest", "metrics")
#: callers without a session: refused by every signed-in route (401, or a redirect to /login)
MACHINES = ("anonymous", "ingest", "metrics")
ROLE_OF = {
    "agent1": "agent",
    "agent2": "agent",
    "sup_red": "supervisor",
    "sup_blue": "supervisor",
    "qa1": "qa",
    "admin1": "admin",
}


@dataclass(frozen=True)
class Access:
    """Who may use a route: ``PUBLIC``, ``INGEST``, ``METRICS`` or a set of roles (limited to
    ``call``'s scope)."""

    who: str | frozenset[str]
    call: str | None = None
    body: Any = None
    #: status codes that also count as allowed (e.g. 409: a state conflict after authorization)
    ok: frozenset[int] = frozenset()
    query: str = ""
    #: the request ends the caller's session (sign in afresh for it)
    ends_session: bool = False
    #: websockets that must accept before they can authorize (Twilio sends its token in the start
    #: event): this first message must then be answered by close 1008
    ws_probe: dict[str, Any] | None = None
    params: dict[str, str] = field(default_factory=dict)


def roles(*names: str) -> frozenset[str]:
    assert set(names) <= ALL_ROLES
    return frozenset(names)


MATRIX: dict[tuple[str, str], Access] = {
    # --- public ---------------------------------------------------------------------------------
    ("GET", "/healthz"): Access(PUBLIC),
    ("GET", "/api/languages"): Access(PUBLIC),
    ("GET", "/login"): Access(PUBLIC),
    ("GET", "/favicon.ico"): Access(PUBLIC),
    # the form without the login page's CSRF cookie: refused whoever sends it (tested in test_auth)
    ("POST", "/login"): Access(PUBLIC, ok=frozenset({403})),
    ("POST", "/api/auth/login"): Access(PUBLIC, body={"username": "qa1", "password": PASSWORD}),
    ("MOUNT", "/ui/static"): Access(PUBLIC),
    # --- machines (ingest token) ---------------------------------------------------------------
    ("WS", "/ws/ingest"): Access(INGEST),
    ("GET", "/metrics"): Access(METRICS),
    ("WS", "/ws/twilio"): Access(INGEST, ws_probe=TWILIO_START),
    ("POST", "/api/audiosocket/register"): Access(
        INGEST, body={"uuid": "", "leg": "agent", "call": {"call_id": "mx-as-1", "agent_id": "A-ONE"}}
    ),
    # --- any signed-in user --------------------------------------------------------------------
    ("GET", "/api/auth/me"): Access(ALL_ROLES),
    ("POST", "/api/auth/logout"): Access(ALL_ROLES, ends_session=True),
    ("GET", "/openapi.json"): Access(ALL_ROLES),
    ("GET", "/api-docs"): Access(ALL_ROLES),
    ("GET", "/"): Access(ALL_ROLES),
    # --- live server ---------------------------------------------------------------------------
    ("WS", "/ws/events"): Access(roles("agent", "supervisor", "qa", "admin")),
    ("GET", "/api/live"): Access(roles("agent", "supervisor", "admin")),
    ("GET", "/api/metrics"): Access(roles("supervisor", "admin")),
    # --- pages -----------------------------------------------------------------------------------
    ("GET", "/supervisor"): Access(roles("supervisor", "admin")),
    ("GET", "/agent"): Access(roles("agent")),
    ("GET", "/qa"): Access(roles("qa", "admin")),
    ("GET", "/qa/calls/{call_id:path}"): Access(roles("qa", "supervisor", "admin"), call=CALL1),
    ("GET", "/admin"): Access(roles("admin")),
    # --- calls, alerts, agent panel ---------------------------------------------------------------
    ("GET", "/api/calls"): Access(ALL_ROLES),
    ("GET", "/api/calls/{call_id:path}"): Access(ALL_ROLES, call=CALL1),
    ("GET", "/api/calls/{call_id:path}/recordings/{leg}.wav"): Access(
        roles("qa", "supervisor", "admin"), call=CALL1
    ),
    ("GET", "/api/calls/{call_id:path}/export.zip"): Access(roles("qa", "supervisor", "admin"), call=CALL1),
    ("POST", "/api/alerts/{alert_id}/acknowledge"): Access(
        roles("supervisor", "admin"), call=CALL1, body={"note": "matrix"}, ok=frozenset({409})
    ),
    ("POST", "/api/alerts/{alert_id}/resolve"): Access(
        roles("supervisor", "admin"), call=CALL1, body={"note": "matrix"}, ok=frozenset({409})
    ),
    # the same handler as /api/wall/alerts/{alert_id}/take_over (mode listen without a body)
    ("POST", "/api/alerts/{alert_id}/take_over"): Access(
        roles("supervisor", "admin"), call=CALL1, body={"note": "matrix"}, ok=frozenset({409})
    ),
    ("GET", "/api/wall"): Access(roles("supervisor", "admin")),
    ("GET", "/api/wall/calls/{call_id:path}"): Access(roles("supervisor", "admin"), call=CALL1),
    ("POST", "/api/wall/alerts/{alert_id}/take_over"): Access(
        roles("supervisor", "admin"),
        call=CALL1,
        body={"mode": "listen", "note": "matrix"},
        ok=frozenset({409}),
    ),
    ("GET", "/supervisor/calls"): Access(roles("supervisor", "admin")),
    ("GET", "/api/agent/current"): Access(roles("agent")),
    ("POST", "/api/agent/ack"): Access(
        roles("agent"), call=CALL1, body={"call_id": CALL1, "rule": "abuse.insult", "t": 9.5}
    ),
    ("WS", "/ws/ui/live"): Access(roles("agent", "supervisor", "admin")),
    ("WS", "/ws/listen/{call_id:path}"): Access(roles("supervisor", "admin"), call=LIVE1),
    # --- QA ------------------------------------------------------------------------------------
    ("GET", "/api/qa/queue"): Access(roles("qa", "admin")),
    ("GET", "/api/qa/scorecard"): Access(roles("qa", "admin")),
    ("GET", "/api/qa/next"): Access(roles("qa", "admin")),
    ("POST", "/api/qa/claim"): Access(roles("qa", "admin")),
    ("GET", "/api/qa/reviewers"): Access(roles("qa", "admin")),
    ("GET", "/api/qa/forms"): Access(roles("qa", "admin")),
    ("GET", "/api/qa/forms/current"): Access(roles("qa", "admin")),
    ("GET", "/api/qa/forms/{form_id}"): Access(roles("qa", "admin"), params={"form_id": "1"}),
    ("POST", "/api/qa/forms"): Access(
        roles("admin"), body={"name": "matrix", "items": [{"key": "greeting", "en": "Greeting"}]}
    ),
    ("GET", "/api/calls/{call_id:path}/recordings/{leg}/peaks"): Access(
        roles("qa", "supervisor", "admin"), call=CALL1
    ),
    ("POST", "/api/qa/calls/{call_id:path}/assign"): Access(
        roles("qa", "admin"), call=CALL1, ok=frozenset({409})
    ),
    ("POST", "/api/qa/calls/{call_id:path}/release"): Access(
        roles("qa", "admin"), call=CALL1, ok=frozenset({409})
    ),
    ("POST", "/api/qa/calls/{call_id:path}/review"): Access(
        roles("qa", "admin"), call=CALL1, body={"notes": "matrix", "done": False}, ok=frozenset({409})
    ),
    # --- admin ---------------------------------------------------------------------------------
    ("GET", "/api/admin/users"): Access(roles("admin")),
    ("POST", "/api/admin/users"): Access(
        roles("admin"), body={"username": "mx_new", "password": "a long new password", "role": "qa"}
    ),
    ("PATCH", "/api/admin/users/{username}"): Access(roles("admin"), body={"active": True}),
    ("GET", "/api/admin/rules"): Access(roles("admin")),
    ("POST", "/api/admin/rules/lint"): Access(roles("admin"), body={"text": "pack: x\n"}),
    ("POST", "/api/admin/users/{username}/end-sessions"): Access(
        roles("admin"), params={"username": OTHER_USER}
    ),
    ("POST", "/api/admin/rules/try"): Access(roles("admin"), body={"text": "you idiot", "lang": "en"}),
    ("GET", "/api/admin/rules/packs"): Access(roles("admin")),
    ("POST", "/api/admin/rules/packs"): Access(roles("admin"), body={"text": MX_PACK}),
    # the pack uploaded by the entry above (404 when this entry runs alone, after authorization)
    ("PUT", "/api/admin/rules/packs/{name}"): Access(
        roles("admin"), body={"enabled": True}, params={"name": "mx-pack"}, ok=frozenset({404})
    ),
    ("PUT", "/api/admin/rules/files"): Access(
        roles("admin"), body={"file": "en/abuse.yaml", "enabled": True}
    ),
    ("GET", "/api/admin/teams"): Access(roles("admin")),
    # a team of its own (an agent outside the matrix's teams), renamed onto its own name, its agent moved in
    ("POST", "/api/admin/teams"): Access(roles("admin"), body={"name": OTHER_TEAM, "agents": [OTHER_AGENT]}),
    ("POST", "/api/admin/teams/{team}/rename"): Access(
        roles("admin"), body={"name": OTHER_TEAM}, params={"team": OTHER_TEAM}
    ),
    ("PUT", "/api/admin/agents/{agent_id}/team"): Access(
        roles("admin"), body={"team": OTHER_TEAM}, params={"agent_id": OTHER_AGENT}
    ),
    ("GET", "/api/admin/audit"): Access(roles("admin")),
    # --- reports (a supervisor: their own team only) --------------------------------------------
    ("GET", "/reports"): Access(roles("supervisor", "qa", "admin")),
    ("GET", "/api/reports"): Access(roles("supervisor", "qa", "admin")),
    ("GET", "/api/reports/{table}.csv"): Access(
        roles("supervisor", "qa", "admin"), params={"table": "agents"}
    ),
}


def app_routes(app: Any) -> set[tuple[str, str]]:
    """(method or WS or MOUNT, path) of every route the application serves."""
    found: set[tuple[str, str]] = set()
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
            repo.create_user(s, OTHER_USER, "not-a-hash", "qa")
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
    url = "/ui/static/" if method == "MOUNT" else concrete(path, access, world)
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
