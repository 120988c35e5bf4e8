"""Which calls a user may see (one policy for every page, API and websocket).

- agent: only their own calls (``agent_id`` = theirs);
- supervisor: the live and recent calls (started within :data:`SUPERVISOR_RECENT`) of the agents
  of their team; a supervisor without a team sees none;
- qa: finished calls (ended or aborted) that were flagged (level above none, or high sensitivity);
- admin: every call.

:func:`call_scope` gives the same policy as keyword arguments of ``repo.list_calls``; combine
extra filters with it via :func:`narrow`, never by overwriting its keys.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.roles import Role
from agent_monitor.storage.enums import CallStatus
from web.auth.deps import CurrentUser

#: how far back a supervisor sees their team's finished calls
SUPERVISOR_RECENT = timedelta(days=7)
FLAGGED_LEVELS = WarningLevel.warnings()
FINISHED = (CallStatus.ENDED, CallStatus.ABORTED)


def call_scope(user: CurrentUser, *, now: datetime | None = None) -> dict[str, Any]:
    """``repo.list_calls`` keyword arguments limiting the listing to the calls ``user`` may see."""
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
    return {"agent_ids": []}  # an unknown role sees nothing


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


def _agent_team(call: Any) -> str | None:
    team = getattr(call, "agent_team", None)
    if team is not None:
        return str(team)
    from sqlalchemy.orm import object_session

    from agent_monitor.storage.tables import Agent

    session = object_session(call)
    if session is None:
        return None
    agent = session.get(Agent, call.agent_id)
    return agent.team if agent is not None else None


def _as_utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def can_see_call(user: CurrentUser, call: Any, *, now: datetime | None = None) -> bool:
    """Whether ``user`` may see ``call`` (a ``Call`` row attached to its session, or any object with
    ``agent_id``, ``status``, ``final_level``, ``high_sensitivity``, ``started_at`` and, for
    supervisors, ``agent_team``)."""
    if user.role is Role.ADMIN:
        return True
    if user.role is Role.AGENT:
        return user.agent_id is not None and call.agent_id == user.agent_id
    if user.role is Role.SUPERVISOR:
        if not user.team or _agent_team(call) != user.team:
            return False
        started = getattr(call, "started_at", None)
        status = CallStatus(call.status)
        if status is CallStatus.LIVE or started is None:
            return True
        return _as_utc(started) >= (now or datetime.now(UTC)) - SUPERVISOR_RECENT
    if user.role is Role.QA:
        finished = CallStatus(call.status) in FINISHED
        flagged = WarningLevel(call.final_level).flagged or bool(call.high_sensitivity)
        return finished and flagged
    return False
