"""The access policy: which calls a user may see, and whether personal data is masked for them.
Written once here and used by every view: the REST API, both websockets (through
:class:`web.auth.live_scope.LiveScope`) and the pages.

Who sees which call (:func:`can_see`, on the :class:`CallFacts` of a call):

- agent: only their own calls (``agent_id`` = theirs);
- supervisor: the calls of the agents of their team started within :data:`SUPERVISOR_RECENT`
  (live calls included); a supervisor without a team sees none;
- qa: finished calls (ended or aborted) that were flagged (level above none);
- admin: every call.

:func:`call_scope` is the same rule as keyword arguments of ``repo.list_calls`` (combine extra
filters with it via :func:`narrow`, never by overwriting its keys); :func:`visible_call` loads one
call for a user, or says it does not exist (404, no hint that it does).

Masking (:func:`masks`): personal data (debtor phone, numbers in transcripts, evidence and
reasons) is masked for the roles the :class:`web.masking.MaskPolicy` of the settings masks for
(by default ``agent`` and ``qa``), in every view alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import object_session
from starlette.requests import HTTPConnection

from agent_monitor.errors import NotFoundError
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.roles import Role
from agent_monitor.storage.enums import CallStatus
from agent_monitor.storage.tables import Agent, Call
from web.auth.deps import CurrentUser
from web.masking import DEFAULT_UNMASKED_ROLES, MaskPolicy

#: how far back a supervisor sees their team's calls
SUPERVISOR_RECENT = timedelta(days=7)
FLAGGED_LEVELS = WarningLevel.warnings()
FINISHED = (CallStatus.ENDED, CallStatus.ABORTED)


@dataclass(frozen=True)
class CallFacts:
    """What the policy needs to know of a call (from its stored row or from the live call)."""

    call_id: str
    agent_id: str
    team: str | None
    status: CallStatus
    level: WarningLevel
    started_at: datetime


def _as_utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def can_see(user: CurrentUser, call: CallFacts, *, now: datetime | None = None) -> bool:
    """Whether ``user`` may see ``call`` (the rule of this module's docstring)."""
    if user.role == Role.ADMIN:
        return True
    if user.role == Role.AGENT:
        return user.agent_id is not None and call.agent_id == user.agent_id
    if user.role == Role.SUPERVISOR:
        recent = _as_utc(call.started_at) >= (now or datetime.now(UTC)) - SUPERVISOR_RECENT
        return bool(user.team) and call.team == user.team and recent
    if user.role == Role.QA:
        return call.status in FINISHED and call.level in FLAGGED_LEVELS
    return False  # an unknown role sees nothing


def call_scope(user: CurrentUser, *, now: datetime | None = None) -> dict[str, Any]:
    """:func:`can_see` as ``repo.list_calls`` keyword arguments."""
    if user.role is Role.ADMIN:
        return {}
    if user.role is Role.AGENT:
        return {"agent_ids": [user.agent_id] if user.agent_id else []}
    if user.role is Role.SUPERVISOR:
        if not user.team:
            return {"agent_ids": []}
        return {"team": user.team, "since": (now or datetime.now(UTC)) - SUPERVISOR_RECENT}
    if user.role is Role.QA:
        return {"status": list(FINISHED), "levels": list(FLAGGED_LEVELS)}
    return {"agent_ids": []}


def narrow(scope: dict[str, Any], **wanted: Any) -> dict[str, Any]:
    """``scope`` further narrowed by ``wanted`` filters (intersections, never widening)."""
    out = dict(scope)
    for key, value in wanted.items():
        if value is None:
            continue
        if key in ("agent_ids", "levels", "status") and key in out:
            have = out[key]
            value_list = [value] if isinstance(value, str) else list(value)
            out[key] = [v for v in value_list if v in have]
        elif key == "since" and out.get("since") is not None:
            out[key] = max(out["since"], value)
        elif key == "until" and out.get("until") is not None:
            out[key] = min(out["until"], value)
        elif key == "team" and "team" in out:
            out[key] = value if value == out["team"] else "\x00no team"
        elif key == "high_sensitivity" and "high_sensitivity" in out and out[key] != value:
            out["agent_ids"] = []
        else:
            out[key] = value
    return out


def facts_of_row(call: Any) -> CallFacts:
    """The facts of a stored ``Call`` row (attached to its session, for the agent's team)."""
    team = getattr(call, "agent_team", None)
    if team is None:
        session = object_session(call)
        agent = session.get(Agent, call.agent_id) if session is not None else None
        team = agent.team if agent is not None else None
    return CallFacts(
        call.id, call.agent_id, team, CallStatus(call.status), WarningLevel(call.final_level), call.started_at
    )


def can_see_call(user: CurrentUser, call: Any, *, now: datetime | None = None) -> bool:
    """:func:`can_see` for a stored ``Call`` row."""
    return can_see(user, facts_of_row(call), now=now)


def visible_call(s: Any, user: CurrentUser, call_id: str) -> Any:
    """The call row when ``user`` may see it; :class:`NotFoundError` otherwise (also when it
    exists: no hint of calls outside the user's scope)."""
    call = s.get(Call, call_id)
    if call is None or not can_see_call(user, call):
        raise NotFoundError(f"no call {call_id!r}")
    return call


def mask_policy(conn: HTTPConnection) -> MaskPolicy:
    policy = getattr(conn.app.state, "mask_policy", None)
    return policy if isinstance(policy, MaskPolicy) else MaskPolicy(DEFAULT_UNMASKED_ROLES)


def masks(conn: HTTPConnection, user: CurrentUser) -> bool:
    """Whether personal data is masked for ``user`` (in every view alike)."""
    return mask_policy(conn).masks_for(user.role)
