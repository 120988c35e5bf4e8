"""The table of the authorization matrix test (``test_authz_matrix.py``): the callers, the calls
each may see, and :data:`MATRIX`, who may use each route of the application. A route added without
an entry here fails ``test_every_route_has_a_matrix_entry``; the entries are written out by hand,
never computed by the code under test."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.web.auth_support import PASSWORD

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
    ("POST", "/api/metrics/reset"): Access(roles("supervisor", "admin")),
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
    ("PUT", "/api/admin/rules/packs/{name:path}"): Access(
        roles("admin"), body={"enabled": True}, params={"name:path": "mx-pack"}, ok=frozenset({404})
    ),
    ("PUT", "/api/admin/rules/files"): Access(
        roles("admin"), body={"file": "en/abuse.yaml", "enabled": True}
    ),
    ("GET", "/api/admin/teams"): Access(roles("admin")),
    # a team of its own (an agent outside the matrix's teams), renamed onto its own name, its agent moved in
    ("POST", "/api/admin/teams"): Access(roles("admin"), body={"name": OTHER_TEAM, "agents": [OTHER_AGENT]}),
    ("POST", "/api/admin/teams/{team:path}/rename"): Access(
        roles("admin"), body={"name": OTHER_TEAM}, params={"team:path": OTHER_TEAM}
    ),
    ("PUT", "/api/admin/agents/{agent_id:path}/team"): Access(
        roles("admin"), body={"team": OTHER_TEAM}, params={"agent_id:path": OTHER_AGENT}
    ),
    ("GET", "/api/admin/audit"): Access(roles("admin")),
    # --- reports (a supervisor: their own team only) --------------------------------------------
    ("GET", "/reports"): Access(roles("supervisor", "qa", "admin")),
    ("GET", "/api/reports"): Access(roles("supervisor", "qa", "admin")),
    ("GET", "/api/reports/{table}.csv"): Access(
        roles("supervisor", "qa", "admin"), params={"table": "agents"}
    ),
}
