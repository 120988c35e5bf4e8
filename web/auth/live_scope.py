"""The call policy of :mod:`web.auth.scope` applied to live data: bus events and live sessions.

Events name their call; who owns the call (its agent) comes from the event itself, the live
session, or the database, and the agent's team from the database. Both are cached per connection.

- admin: every event; agent: events of their own calls; supervisor: events of their team's calls;
- qa: only ``call_ended`` of flagged calls and ``qa_queued`` (what feeds the QA queue; QA does
  not watch calls live).
"""

from __future__ import annotations

import asyncio
from typing import Any

from agent_monitor.errors import NotFoundError
from agent_monitor.model.events import CallEnded, CallStarted, Event, QaQueued
from agent_monitor.model.roles import Role
from web.auth.deps import CurrentUser

_UNKNOWN = "\x00unknown"


class LiveScope:
    """Which live calls (and their events) one user may see."""

    def __init__(self, user: CurrentUser, services: Any) -> None:
        self.user = user
        self.services = services
        self._owner: dict[str, str] = {}
        self._team: dict[str, str | None] = {}

    async def owner_of(self, call_id: str, event: Event | None = None) -> str:
        if call_id in self._owner:
            return self._owner[call_id]
        owner: str | None = None
        if isinstance(event, CallStarted):
            owner = event.info.agent_id
        for session in self.services.manager.live_calls():
            if owner is None and session.info.call_id == call_id:
                owner = session.info.agent_id
        if owner is None:
            owner = await asyncio.to_thread(self._owner_from_db, call_id)
        if owner != _UNKNOWN:
            self._owner[call_id] = owner
        return owner

    def _owner_from_db(self, call_id: str) -> str:
        from agent_monitor.storage import repo

        with self.services.db.session() as s:
            try:
                return str(repo.get_call(s, call_id).agent_id)
            except NotFoundError:
                return _UNKNOWN

    async def team_of(self, agent_id: str) -> str | None:
        if agent_id not in self._team:
            self._team[agent_id] = await asyncio.to_thread(self._team_from_db, agent_id)
        return self._team[agent_id]

    def _team_from_db(self, agent_id: str) -> str | None:
        from agent_monitor.storage.tables import Agent

        with self.services.db.session() as s:
            agent = s.get(Agent, agent_id)
            return agent.team if agent is not None else None

    async def sees_agent(self, agent_id: str) -> bool:
        """Whether the user may see a live call of ``agent_id``."""
        role = self.user.role
        if role is Role.ADMIN:
            return True
        if role is Role.AGENT:
            return self.user.agent_id is not None and agent_id == self.user.agent_id
        if role is Role.SUPERVISOR:
            return bool(self.user.team) and await self.team_of(agent_id) == self.user.team
        return False

    async def allows(self, event: Event) -> bool:
        """Whether ``event`` may be sent to the user."""
        role = self.user.role
        if role is Role.ADMIN:
            return True
        if role is Role.QA:
            if isinstance(event, CallEnded):
                return event.level.flagged
            return isinstance(event, QaQueued)
        if role not in (Role.AGENT, Role.SUPERVISOR):
            return False
        owner = await self.owner_of(event.call_id, event)
        return owner != _UNKNOWN and await self.sees_agent(owner)
