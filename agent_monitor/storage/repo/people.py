"""Agents and web-application users."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agent_monitor.errors import ConflictError, InvalidRecordError, NotFoundError
from agent_monitor.model.identifiers import DOT_SEGMENT_PROBLEM, DOT_SEGMENTS, identifier_problem
from agent_monitor.model.roles import Role
from agent_monitor.storage.tables import Agent, User

#: a username: what the admin API has always taken (ASCII letters, digits, ``_ . @ -``), for every
#: way a user is made (the command line took control characters and names of any length)
USERNAME = re.compile(r"[A-Za-z0-9_.@-]{1,100}")


def ensure_agent(
    session: Session, agent_id: str, *, name: str | None = None, team: str | None = None
) -> Agent:
    """The agent ``agent_id``, created if unknown (name defaults to the id); name/team updated if given."""
    agent = session.get(Agent, agent_id)
    if agent is None:
        try:
            with session.begin_nested():  # two calls of a new agent may start at once
                agent = Agent(id=agent_id, name=name or agent_id, team=team)
                session.add(agent)
            return agent
        except IntegrityError:
            agent = session.get(Agent, agent_id)
            if agent is None:  # pragma: no cover - the conflicting row vanished again
                raise
            session.refresh(agent)
    if name is not None:
        agent.name = name
    if team is not None:
        agent.team = team
    return agent


def get_agent(session: Session, agent_id: str) -> Agent:
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise NotFoundError(f"agent {agent_id!r} not found")
    return agent


def list_agents(session: Session, *, team: str | None = None) -> list[Agent]:
    stmt = select(Agent).order_by(Agent.id)
    if team is not None:
        stmt = stmt.where(Agent.team == team)
    return list(session.scalars(stmt))


def create_user(
    session: Session,
    username: str,
    password_hash: str,
    role: Role,
    *,
    agent_id: str | None = None,
    team: str | None = None,
    active: bool = True,
) -> User:
    """Add a user. An ``agent`` user needs ``agent_id`` (the agent is created if unknown); an agent
    user's ``team`` is also the team of their agent row (the one supervisors' scopes follow)."""
    role = _role(role)
    if not username.strip():
        raise InvalidRecordError("a username cannot be empty")
    if not USERNAME.fullmatch(username):
        raise InvalidRecordError(
            f"username {username[:100]!r}: 1 to 100 of the letters A-Z, a-z, the digits and _ . @ -"
        )
    if username in DOT_SEGMENTS:  # the admin page could not edit, reset or deactivate such a user
        raise InvalidRecordError(f"username {username!r} {DOT_SEGMENT_PROBLEM}")
    for what, value, limit in (("agent id", agent_id, 64), ("team", team, 100)):
        problem = None if value is None else identifier_problem(value, limit)
        if problem is not None:
            raise InvalidRecordError(f"{what} {str(value)[:limit]!r} {problem}")
    taken = _same_name(session, username)
    if taken is not None:
        also = "" if taken == username else f" as {taken!r} (usernames differing only in case are one name)"
        raise ConflictError(f"user {username!r} already exists{also}")
    _check_role_links(role, agent_id, team)
    if agent_id is not None:
        ensure_agent(session, agent_id, team=team if role is Role.AGENT else None)
    user = User(
        username=username,
        password_hash=password_hash,
        role=role,
        agent_id=agent_id,
        team=team,
        active=active,
    )
    session.add(user)
    session.flush()
    return user


def _same_name(session: Session, username: str) -> str | None:
    """The existing username equal to ``username`` ignoring case (usernames are ASCII), or None."""
    stmt = select(User.username).where(func.lower(User.username) == username.lower()).limit(1)
    return session.scalars(stmt).first()


def get_user(session: Session, username: str) -> User | None:
    """The user ``username`` whatever its case, as :func:`create_user` holds names differing only in
    case to be one name (signing in as ``alice`` finds ``Alice``; callers go on with the row's own
    ``username``). ``None`` when unknown, and for a case matching neither of two stored names that
    differ only in case (a database from before that rule): each of those is found by its own."""
    exact = session.scalars(select(User).where(User.username == username)).one_or_none()
    if exact is not None or not username.isascii():  # a stored name is ASCII: no other match
        return exact
    stmt = select(User).where(func.lower(User.username) == username.lower()).limit(2)
    found = list(session.scalars(stmt))
    return found[0] if len(found) == 1 else None


def require_user(session: Session, username: str) -> User:
    """:func:`get_user`, or :class:`NotFoundError`."""
    user = get_user(session, username)
    if user is None:
        raise NotFoundError(f"user {username!r} not found")
    return user


def get_user_by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def list_users(session: Session, *, role: Role | None = None, active: bool | None = None) -> list[User]:
    stmt = select(User).order_by(User.username)
    if role is not None:
        stmt = stmt.where(User.role == _role(role))
    if active is not None:
        stmt = stmt.where(User.active == active)
    return list(session.scalars(stmt))


def count_users(session: Session, *, role: Role | None = None) -> int:
    stmt = select(func.count()).select_from(User)
    if role is not None:
        stmt = stmt.where(User.role == _role(role))
    return int(session.scalar(stmt) or 0)


def set_password(session: Session, username: str, password_hash: str) -> User:
    user = require_user(session, username)
    user.password_hash = password_hash
    return user


def set_user_active(session: Session, username: str, active: bool) -> User:
    user = require_user(session, username)
    user.active = active
    return user


def set_user_role(
    session: Session,
    username: str,
    role: Role,
    *,
    agent_id: str | None = None,
    team: str | None = None,
) -> User:
    """Change a user's role together with the agent id / team that goes with it. For an agent the
    team goes onto their agent row too (calls carry the agent id; supervisors see by the agent's
    team), so an agent moved to no team leaves their team's scope."""
    role = _role(role)
    _check_role_links(role, agent_id, team)
    user = require_user(session, username)
    if agent_id is not None:
        agent = ensure_agent(session, agent_id)
        if role is Role.AGENT:
            agent.team = team
    user.role, user.agent_id, user.team = role, agent_id, team
    return user


def _role(role: Role) -> Role:
    """``role`` as a :class:`Role`; a clear error for a value that is none (from untyped callers)."""
    try:
        return Role(role)
    except ValueError:
        raise InvalidRecordError(
            f"unknown role {role!r}; use one of {', '.join(r.value for r in Role)}"
        ) from None


def _check_role_links(role: Role, agent_id: str | None, team: str | None) -> None:
    """An agent answers calls as an agent id; a supervisor watches a team (without one they would
    see no calls) and answers none."""
    if role is Role.AGENT and not agent_id:
        raise InvalidRecordError("a user with role agent needs the agent id they answer calls as")
    if role is Role.SUPERVISOR and agent_id:
        raise InvalidRecordError(
            "a supervisor has no agent id (only agent users answer calls); leave the agent id empty"
        )
    if role is Role.SUPERVISOR and not (team or "").strip():
        raise InvalidRecordError("a supervisor needs a team: without one they would see no calls")
