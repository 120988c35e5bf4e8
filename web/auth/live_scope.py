"""The access policy of :mod:`web.auth.scope` applied to live data: bus events and live calls.

An event names its call; the :class:`~web.auth.scope.CallFacts` the policy decides on come from
the live call (its :class:`CallInfo`: a ``call_started`` event or the call manager's session),
else from the stored call, with what a ``call_ended`` / ``qa_queued`` event says (the call is
finished, at that level) laid over them, since the database may not have it yet. Finished calls'
facts are looked up once per connection; a supervisor's team (the agents in it, one query) once
per ``web.session_recheck_s`` (as often as an open websocket re-checks its session), so an agent an
admin moves to another team leaves the old team's open walls within that time; a live call's
events wait on the database only for those lookups, and only for the roles whose view depends on
them (an admin sees every event, and only a supervisor's view depends on a team). While the
database is not available (down, or every pooled connection busy) a lookup is tried again, the
event waiting: it is neither dropped nor does it end the socket (it ended it with a server error,
and every later event with it, alerts too). Once the socket's client has left (or its session
ended) the lookup stops trying (:class:`NobodyWaits`); it used to go on until the database
answered. A supervisor's team is waited for so only the first time: it is read again beside the
events every ``web.session_recheck_s`` and when an agent not in it is first seen (the admin may
have just put them in it), the event waiting up to :data:`RECHECK_WAIT_S` for the read, and while
the database cannot answer the team as last read stands, as the socket's session does
(:func:`~web.auth.deps.session_still_valid`). Before session 51 each agent's team was looked up
when first seen and again after that time, so with the database away every event of the
supervisor's socket, red alerts too, waited behind the first one of a new call or of the re-check.
A call's ``call_ended`` is decided on what the socket saw of the call live (:meth:`LiveScope._info`),
not on its stored row, which it waited for before.

So each user gets, live, the events of exactly the calls the REST API shows them: an agent their
own calls, a supervisor their team's, QA the ``call_ended`` and ``qa_queued`` of flagged calls
(QA does not watch calls live), an admin everything.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import partial
from typing import TypeVar

from sqlalchemy import select

from agent_monitor.model.events import CallEnded, CallStarted, Event, QaQueued
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.roles import Role
from agent_monitor.model.session import CallInfo
from agent_monitor.pipeline.outbox import is_transient
from agent_monitor.storage.enums import CallStatus
from agent_monitor.storage.tables import Agent, Call
from web.auth.deps import CurrentUser
from web.auth.scope import CallFacts, can_see, facts_of_row
from web.services import Services

log = logging.getLogger(__name__)
T = TypeVar("T")

#: how long an event waits for a read of the supervisor's team beside the events; if that takes
#: longer (the database not available), the team as last read decides it
RECHECK_WAIT_S = 1.0
#: the most calls a socket remembers (seen live, finished), the oldest forgotten first (a socket
#: whose filter leaves out ``call_ended`` would otherwise keep every call of a long day)
REMEMBERED_CALLS = 4096
K = TypeVar("K")
V = TypeVar("V")


def _remember(calls: dict[K, V], key: K, value: V) -> None:
    """``calls[key] = value``, the oldest entry forgotten beyond :data:`REMEMBERED_CALLS`."""
    calls[key] = value
    if len(calls) > REMEMBERED_CALLS:
        del calls[next(iter(calls))]


class NobodyWaits(Exception):
    """A lookup that waited for the database stopped: the socket's client has left."""


def _never() -> bool:
    return False


class LiveScope:
    """Which live calls (and their events) one user may see."""

    def __init__(
        self, user: CurrentUser, services: Services, *, waits: bool = True, gone: Callable[[], bool] = _never
    ) -> None:
        self.user = user
        #: a lookup waits while the database is not available (a socket's events); ``False``: it
        #: fails at once (a request, answered 503)
        self.waits = waits
        #: the socket's client has left: a lookup that waits stops trying (:class:`NobodyWaits`)
        self.gone = gone
        self.services = services
        #: the agents of the supervisor's team, as last read (None: not read yet), and when
        self._roster: frozenset[str] | None = None
        self._roster_at = 0.0
        #: when each agent was first seen (a read after it decides them)
        self._seen: dict[str, float] = {}
        #: the roster read again, beside the events (:meth:`_read_since`); an event waited for it
        self._read: asyncio.Task[tuple[float, frozenset[str]]] | None = None
        self._read_waited = False
        self._finished: dict[str, CallFacts] = {}
        #: the calls this socket has seen live, until their ``call_ended`` (:meth:`_info`)
        self._seen_live: dict[str, CallInfo] = {}
        #: a lookup has waited for the database on this connection (said once in the log)
        self._waited = False

    def close(self) -> None:
        """The socket has ended: a read of the roster still going on beside stops."""
        task, self._read = self._read, None
        if task is not None and not task.done():
            task.cancel()
        elif task is not None and not task.cancelled():
            task.exception()  # retrieved (a client that left: NobodyWaits), not logged at exit

    async def allows(self, event: Event) -> bool:
        """Whether ``event`` may be sent to the user."""
        if self.user.role is Role.ADMIN:  # every call: nothing to look up
            return True
        return can_see(self.user, await self.facts(event))

    async def sees(self, info: CallInfo) -> bool:
        """Whether the user may see the live call ``info``."""
        return can_see(self.user, await self._live_facts(info))

    async def facts(self, event: Event) -> CallFacts:
        """The facts of the call of ``event``; a call neither live nor stored has no agent and no
        team (only an admin sees its events, and QA its end when flagged)."""
        info = self._info(event)
        facts = await self._live_facts(info) if info is not None else await self._stored(event.call_id)
        if facts is None:
            facts = CallFacts(event.call_id, "", None, CallStatus.LIVE, WarningLevel.NONE, datetime.now(UTC))
        if isinstance(event, CallEnded):
            facts = dataclasses.replace(
                facts, status=CallStatus(event.status), level=WarningLevel(str(event.level))
            )
            if self._seen_live.pop(event.call_id, None) is not None:
                _remember(self._finished, event.call_id, facts)  # as the database will have it
            return facts
        if isinstance(event, QaQueued):
            status = CallStatus.ENDED if facts.status is CallStatus.LIVE else facts.status
            return dataclasses.replace(facts, status=status, level=WarningLevel(str(event.level)))
        return facts

    def _info(self, event: Event) -> CallInfo | None:
        """The info of the call of ``event`` while it is live here, or as this socket last saw it
        live: a call's ``call_ended`` is read after the call has left the live calls (it is
        published as it leaves), and was looked up in the database for every call's end."""
        info = event.info if isinstance(event, CallStarted) else self._live_info(event.call_id)
        if info is None:
            return self._seen_live.get(event.call_id)
        _remember(self._seen_live, event.call_id, info)
        return info

    def _live_info(self, call_id: str) -> CallInfo | None:
        session = self.services.calls.get(call_id)
        return session.info if session is not None else None

    async def _live_facts(self, info: CallInfo) -> CallFacts:
        team = await self.team_of(info.agent_id)
        return CallFacts(
            info.call_id, info.agent_id, team, CallStatus.LIVE, WarningLevel.NONE, info.started_at
        )

    async def team_of(self, agent_id: str) -> str | None:
        """For a supervisor (the only view a team decides), the supervisor's team for an agent in
        it, else None; None for the others. An agent first seen after the team was last read has
        the team read again (an admin may have just put them in it)."""
        await self.learn_team([agent_id])
        if self._roster is None:  # not a supervisor
            return None
        if agent_id not in self._roster:
            await self._read_since(self._seen[agent_id])
        return self.user.team if agent_id in self._roster else None

    async def learn_team(self, agent_ids: Iterable[str]) -> None:
        """Read the agents of the supervisor's team (one query, whatever the calls), waiting for the
        database the first time; read again every ``web.session_recheck_s``. ``agent_ids``: agents
        seen now (a page of live calls, an event's call), noted first, so that a read from now on
        decides them. Not for a user whose view no team decides (:attr:`_roster` stays None)."""
        if self.user.role is not Role.SUPERVISOR:
            return
        now = time.monotonic()
        for agent_id in agent_ids:
            self._seen.setdefault(agent_id, now)
        if self._roster is None:
            self._roster_at, self._roster = await self._looked_up(self._roster_from_db)
            return
        await self._read_since(now - self.services.settings.web.session_recheck_s)

    async def _read_since(self, since: float) -> None:
        """Make the roster one read at ``since`` or later: read again in a task beside the events
        (tried again while the database is not available), waited for up to
        :data:`RECHECK_WAIT_S` once; while it is not done the roster as last read stands. The
        read's error (a client that left) is the event's."""
        self._take_read()
        if self._roster_at >= since:
            return
        if self._read is None:
            self._read = asyncio.create_task(self._looked_up(self._roster_from_db, beside=True))
            self._read_waited = False
        if not self._read_waited:  # one event waits for a read; the next ones go on
            self._read_waited = True
            await asyncio.wait({self._read}, timeout=RECHECK_WAIT_S)
            self._take_read()

    def _take_read(self) -> None:
        """The roster of a read that is done, taken (its error raised)."""
        if self._read is not None and self._read.done():
            task, self._read = self._read, None
            self._roster_at, self._roster = task.result()

    async def _looked_up(self, lookup: Callable[[], T], beside: bool = False) -> T:
        """``lookup()`` in a thread, tried again (0.5 s, doubling to 5 s) while the database is
        not available: the event waits (``beside``: the roster as last read stands), as the module
        documentation says, until the client has left (:class:`NobodyWaits`)."""
        delay = 0.5
        while True:
            try:
                return await asyncio.to_thread(lookup)
            except Exception as exc:
                if not self.waits or not is_transient(exc):
                    raise
                if not self._waited:
                    what = "go on with the team as last read" if beside else "wait for the database"
                    log.warning("live events of %s %s: %s", self.user.username, what, exc)
                self._waited = True
            await asyncio.sleep(delay)
            if self.gone():
                raise NobodyWaits
            delay = min(5.0, delay * 2)

    def _roster_from_db(self) -> tuple[float, frozenset[str]]:
        """When it was read (:func:`time.monotonic`), and the ids of the agents in the team."""
        at = time.monotonic()
        if not self.user.team:  # a supervisor of no team sees no call
            return at, frozenset()
        with self.services.db.session() as s:
            rows = s.scalars(select(Agent.id).where(Agent.team == self.user.team))
            return at, frozenset(str(agent_id) for agent_id in rows)

    async def _stored(self, call_id: str) -> CallFacts | None:
        if call_id in self._finished:
            return self._finished[call_id]
        facts = await self._looked_up(partial(self._stored_from_db, call_id))
        if facts is not None and facts.status is not CallStatus.LIVE:
            _remember(self._finished, call_id, facts)  # a finished call's facts no longer change
        return facts

    def _stored_from_db(self, call_id: str) -> CallFacts | None:
        with self.services.db.session() as s:
            call = s.get(Call, call_id)
            return facts_of_row(call) if call is not None else None
