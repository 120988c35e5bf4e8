"""The escalation sweep of a floor: a handoff survives the node that raised its alert.

The node that raises a red alert runs its escalation timer (:class:`Escalator`), as a single
server does. On a floor that node may die before the timer fires, so every analysis (or ``all``)
node also sweeps the shared database every ``cluster.escalation_sweep_s``: a handoff requested
more than ``live.escalate_after_s`` ago (within ``cluster.escalation_horizon_s``), nobody
acknowledged, its alert still raised and not escalated yet is escalated with
:func:`repo.escalate_if_due`. That decision is taken under the database's alert-event lock, so of
the timer and all the sweeps exactly one escalates a handoff, and only that one publishes
:class:`HandoffEscalated` (critical) on the bus, which every node's walls read.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from agent_monitor.model.events import HandoffEscalated
from agent_monitor.pipeline.bus import EventBus
from agent_monitor.pipeline.escalation import Clock, SystemClock
from agent_monitor.storage import Database, repo

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DueHandoff:
    """A handoff due for escalation, with what :class:`HandoffEscalated` says of its call."""

    alert_id: int
    call_id: str
    agent_id: str
    call_started: datetime
    requested_at: datetime


class HandoffSweep:
    """Escalates the floor's due handoffs that no node escalated (see the module documentation)."""

    def __init__(
        self,
        db: Database,
        bus: EventBus,
        *,
        after_s: float,
        horizon_s: float,
        clock: Clock | None = None,
    ) -> None:
        self.db = db
        self.bus = bus
        self.after_s = after_s
        self.horizon_s = horizon_s
        self.clock = clock or SystemClock()
        #: how many handoffs this sweep escalated
        self.escalated = 0

    async def once(self) -> list[int]:
        """One sweep: the ids of the alerts whose handoff this node escalated now."""
        now = self.clock.now()
        won = []
        for due in await asyncio.to_thread(self._due, now):
            if await asyncio.to_thread(self._escalate, due.alert_id, now):
                won.append(due.alert_id)
                await self.bus.publish(
                    HandoffEscalated(
                        call_id=due.call_id,
                        t=(now - due.call_started).total_seconds(),
                        alert_id=due.alert_id,
                        agent_id=due.agent_id,
                        waited_s=round((now - due.requested_at).total_seconds(), 1),
                    )
                )
        self.escalated += len(won)
        return won

    def _due(self, now: datetime) -> list[DueHandoff]:
        before = now - timedelta(seconds=self.after_s)
        after = before - timedelta(seconds=self.horizon_s)
        with self.db.session() as s:
            handoffs = repo.handoffs_due_for_escalation(s, requested_before=before, requested_after=after)
            due = []
            for h in handoffs:
                call = repo.get_call(s, h.call_id)
                due.append(DueHandoff(h.alert_id, h.call_id, call.agent_id, call.started_at, h.requested_at))
            return due

    def _escalate(self, alert_id: int, now: datetime) -> bool:
        note = f"not acknowledged within {self.after_s:g} s (escalated by the floor's sweep)"
        with self.db.session() as s:
            escalated = repo.escalate_if_due(s, alert_id, at=now, note=note) is not None
        if escalated:
            log.info("alert %s: handoff escalated by this node's sweep", alert_id)
        return escalated
