"""Handoff escalation: a red alert nobody acknowledges within N seconds is escalated.

The timer runs on an injectable :class:`Clock` (wall time and sleeping), so tests can drive it
with a fake clock instead of waiting; production uses :class:`SystemClock`. When the timer
fires, the alert's state is read from the database (acknowledgements may come from any web
worker): only a handoff still unacknowledged, not escalated and with its alert still raised is
escalated (:func:`repo.escalate_if_due`, by ``system``, decided under the database's lock, so
exactly once even when the sweeps of a floor's nodes try too: ``agent_monitor.cluster.handoffs``),
and :class:`HandoffEscalated` is published.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Protocol

from agent_monitor.model.events import HandoffEscalated
from agent_monitor.pipeline.bus import EventBus
from agent_monitor.pipeline.outbox import is_transient
from agent_monitor.storage import Database, repo

log = logging.getLogger(__name__)


class Clock(Protocol):
    """Wall time and sleeping, injectable for tests."""

    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock: UTC now and :func:`asyncio.sleep`."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class Escalator:
    """Escalation timers for the handoffs of all calls of a :class:`CallManager`."""

    def __init__(self, db: Database, bus: EventBus, clock: Clock, after_s: float) -> None:
        self.db = db
        self.bus = bus
        self.clock = clock
        self.after_s = after_s
        self._tasks: dict[int, asyncio.Task[bool]] = {}
        #: alert ids escalated so far
        self.escalated: list[int] = []
        #: escalations that went out during a database outage, waiting to be recorded
        self._late: set[asyncio.Task[None]] = set()

    def schedule(self, alert_id: int, call_id: str, agent_id: str, call_started: datetime) -> None:
        """Start the timer of a freshly requested handoff."""
        if alert_id in self._tasks:
            return
        task = asyncio.create_task(
            self._wait(alert_id, call_id, agent_id, call_started), name=f"escalate:{alert_id}"
        )
        self._tasks[alert_id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(alert_id, None))

    def cancel(self, alert_id: int) -> None:
        """The handoff was acknowledged: stop its timer."""
        task = self._tasks.pop(alert_id, None)
        if task is not None:
            task.cancel()

    @property
    def pending(self) -> list[int]:
        return sorted(self._tasks)

    async def _wait(self, alert_id: int, call_id: str, agent_id: str, call_started: datetime) -> bool:
        await self.clock.sleep(self.after_s)
        now = self.clock.now()
        try:
            escalated = await asyncio.to_thread(self._escalate_if_due, alert_id, now)
        except Exception as exc:
            if not is_transient(exc):
                raise
            # the database is unavailable (so nobody could acknowledge through it either): the
            # escalation goes out now and is recorded once the database is back
            log.warning("alert %s: escalated during a database outage; recorded later: %s", alert_id, exc)
            escalated = True
            late = asyncio.create_task(self._record_later(alert_id, now))
            self._late.add(late)
            late.add_done_callback(self._late.discard)
        if escalated:
            self.escalated.append(alert_id)
            t = (now - call_started).total_seconds()
            await self.bus.publish(
                HandoffEscalated(
                    call_id=call_id, t=t, alert_id=alert_id, agent_id=agent_id, waited_s=self.after_s
                )
            )
        return escalated

    async def _record_later(self, alert_id: int, now: datetime) -> None:
        delay = 0.5
        while True:
            await asyncio.sleep(delay)
            try:
                await asyncio.to_thread(self._escalate_if_due, alert_id, now)
                return
            except Exception as exc:
                if not is_transient(exc):
                    log.error("alert %s: escalation not recorded: %s", alert_id, exc)
                    return
            delay = min(5.0, delay * 2)

    def _escalate_if_due(self, alert_id: int, now: datetime) -> bool:
        note = f"not acknowledged within {self.after_s:g} s"
        with self.db.session() as session:
            escalated = repo.escalate_if_due(session, alert_id, at=now, note=note) is not None
        if escalated:
            log.info("alert %s: handoff escalated after %.0f s", alert_id, self.after_s)
        return escalated

    async def shutdown(self) -> None:
        tasks = [*self._tasks.values(), *self._late]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
