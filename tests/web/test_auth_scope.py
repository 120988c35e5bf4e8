"""The call policy (:mod:`web.auth.scope`) on a real database: the listing form
(``call_scope`` -> ``repo.list_calls``) and the single-call form (``can_see_call``) agree for every
user and call, and give what the policy says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.roles import Role
from agent_monitor.settings import Settings
from agent_monitor.storage import CallStatus, Database, repo, upgrade_database
from web.auth.deps import CurrentUser
from web.auth.scope import call_scope, can_see_call, narrow

NOW = datetime.now(UTC)
#: call id -> (agent, started ago, status, level)
CALLS = {
    "red-live": ("A-RED", timedelta(minutes=5), CallStatus.LIVE, WarningLevel.NONE),
    "red-ended-flagged": ("A-RED", timedelta(hours=2), CallStatus.ENDED, WarningLevel.ORANGE),
    "red-ended-clean": ("A-RED", timedelta(hours=3), CallStatus.ENDED, WarningLevel.NONE),
    "red-old-flagged": ("A-RED", timedelta(days=10), CallStatus.ENDED, WarningLevel.RED),
    "blue-aborted-flagged": ("A-BLUE", timedelta(hours=1), CallStatus.ABORTED, WarningLevel.YELLOW),
    "blue-live-red": ("A-BLUE", timedelta(minutes=1), CallStatus.LIVE, WarningLevel.RED),
    "loner-ended": ("A-NOTEAM", timedelta(hours=1), CallStatus.ENDED, WarningLevel.RED),
}
USERS = {
    "agent-red": CurrentUser("agent-red", Role.AGENT, "A-RED", None),
    "agent-blue": CurrentUser("agent-blue", Role.AGENT, "A-BLUE", None),
    "sup-red": CurrentUser("sup-red", Role.SUPERVISOR, None, "red"),
    "sup-none": CurrentUser("sup-none", Role.SUPERVISOR, None, None),
    "qa": CurrentUser("qa", Role.QA, None, None),
    "admin": CurrentUser("admin", Role.ADMIN, None, None),
}
EXPECTED = {
    "agent-red": {"red-live", "red-ended-flagged", "red-ended-clean", "red-old-flagged"},
    "agent-blue": {"blue-aborted-flagged", "blue-live-red"},
    "sup-red": {"red-live", "red-ended-flagged", "red-ended-clean"},  # not older than 7 days
    "sup-none": set(),
    "qa": {"red-ended-flagged", "red-old-flagged", "blue-aborted-flagged", "loner-ended"},
    "admin": set(CALLS),
}


def test_listing_and_single_call_agree_with_the_policy(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True)
    upgrade_database(settings)
    db = Database.open(settings)
    try:
        with db.session() as s:
            repo.ensure_agent(s, "A-RED", team="red")
            repo.ensure_agent(s, "A-BLUE", team="blue")
            repo.ensure_agent(s, "A-NOTEAM")
            for call_id, (agent, ago, status, level) in CALLS.items():
                repo.start_call(s, call_id, agent, source_protocol="ws-ingest", started_at=NOW - ago)
                if level is not WarningLevel.NONE:
                    repo.raise_call_level(s, call_id, level)
                if status is not CallStatus.LIVE:
                    repo.end_call(s, call_id, ended_at=NOW - ago + timedelta(minutes=1), status=status)
        with db.session() as s:
            for name, user in USERS.items():
                listed = {c.id for c in repo.list_calls(s, **call_scope(user, now=NOW))}
                assert listed == EXPECTED[name], name
                single = {c for c in CALLS if can_see_call(user, repo.get_call(s, c), now=NOW)}
                assert single == EXPECTED[name], name
            # narrowing never widens: an agent asking for another agent's calls gets none
            red_agent = USERS["agent-red"]
            asked = narrow(call_scope(red_agent), agent_ids=["A-BLUE"])
            assert repo.list_calls(s, **asked) == []
            qa_live = narrow(call_scope(USERS["qa"]), status=[CallStatus.LIVE])
            assert repo.list_calls(s, **qa_live) == []
            sup_old = narrow(call_scope(USERS["sup-red"], now=NOW), since=NOW - timedelta(days=30))
            assert "red-old-flagged" not in {c.id for c in repo.list_calls(s, **sup_old)}
    finally:
        db.dispose()
