"""Teams: the ``team`` of agents (whose calls a team's supervisors see) and of supervisor users.

A team is a name shared by agents and supervisors; it exists while someone belongs to it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent_monitor.errors import ConflictError, InvalidRecordError, NotFoundError
from agent_monitor.storage.enums import Role
from agent_monitor.storage.repo.audit import lock_audit
from agent_monitor.storage.repo.people import get_agent
from agent_monitor.storage.tables import Agent, User

MAX_TEAM_CHARS = 100


@dataclass(frozen=True)
class Team:
    name: str
    agents: tuple[str, ...]
    supervisors: tuple[str, ...]


def team_name(name: str) -> str:
    """``name`` trimmed; an empty or too long name is an :class:`InvalidRecordError`."""
    name = (name or "").strip()
    if not name:
        raise InvalidRecordError("a team needs a name")
    if len(name) > MAX_TEAM_CHARS:
        raise InvalidRecordError(f"a team name has at most {MAX_TEAM_CHARS} characters")
    return name


def list_teams(session: Session) -> list[Team]:
    """Every team with its agents and supervisors (agents without a team are not listed)."""
    agents: dict[str, list[str]] = {}
    supervisors: dict[str, list[str]] = {}
    for agent_id, team in session.execute(select(Agent.id, Agent.team).where(Agent.team.is_not(None))):
        agents.setdefault(str(team), []).append(agent_id)
    sups = select(User.username, User.team).where(User.role == Role.SUPERVISOR, User.team.is_not(None))
    for username, team in session.execute(sups):
        supervisors.setdefault(str(team), []).append(username)
    names = sorted(set(agents) | set(supervisors))
    return [Team(n, tuple(sorted(agents.get(n, []))), tuple(sorted(supervisors.get(n, [])))) for n in names]


def team_exists(session: Session, name: str) -> bool:
    return any(t.name == name for t in list_teams(session))


def set_agent_team(session: Session, agent_id: str, team: str | None) -> Agent:
    """Move an agent to ``team`` (``None``: to no team)."""
    agent = get_agent(session, agent_id)
    agent.team = None if team is None else team_name(team)
    session.flush()
    return agent


def rename_team(session: Session, old: str, new: str) -> int:
    """Rename team ``old`` to ``new`` for its agents and supervisors; returns how many changed.
    Renaming onto an existing team is refused (move the agents instead); decided under the audit
    lock (the caller records the rename), so two renames at once cannot merge two teams into one."""
    new = team_name(new)
    lock_audit(session)
    if not team_exists(session, old):
        raise NotFoundError(f"team {old!r} not found")
    if new != old and team_exists(session, new):
        raise ConflictError(f"team {new!r} already exists; move agents to it instead")
    members = list(session.scalars(select(Agent).where(Agent.team == old)))
    members += list(session.scalars(select(User).where(User.team == old)))
    for member in members:
        member.team = new
    session.flush()
    return len(members)
