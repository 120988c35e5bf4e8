"""Carrying out an alert decision of the policy (:mod:`.policy`): publish, store, hand off, queue.

The level and the alert are published at once; the alert row is written by the call's outbox
(never waited on beyond ``live.outbox.alert_id_wait_s``). At red the call is handed to
supervisors (:class:`HandoffRequested`, escalation timer) once the alert row exists; a decision
that queues the call for QA stores the queue entry and publishes :class:`QaQueued`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from agent_monitor.model.events import AlertRaised, AlertStored, HandoffRequested, LevelChanged, QaQueued
from agent_monitor.model.session import CallInfo
from agent_monitor.pipeline import records
from agent_monitor.pipeline.bus import EventBus
from agent_monitor.pipeline.escalation import Clock, Escalator
from agent_monitor.pipeline.metrics import NO_METRICS, PipelineMetrics
from agent_monitor.pipeline.policy import AlertDecision
from agent_monitor.pipeline.store import CallStore
from agent_monitor.settings import Settings

log = logging.getLogger(__name__)


class CallAlerts:
    """The alerts of one call: raised, stored, handed off (see the module documentation)."""

    def __init__(
        self,
        info: CallInfo,
        settings: Settings,
        bus: EventBus,
        store: CallStore,
        escalator: Escalator,
        clock: Clock,
        *,
        metrics: PipelineMetrics = NO_METRICS,
    ) -> None:
        self.info = info
        self.metrics = metrics
        self.settings = settings
        self.bus = bus
        self.store = store
        self.escalator = escalator
        self.clock = clock
        #: the keys (uuids) of the alerts raised, in order; ``ids`` the stored ids known so far
        self.keys: list[str] = []
        self.ids: list[int] = []
        self._background: set[asyncio.Task[None]] = set()

    @property
    def call_id(self) -> str:
        return self.info.call_id

    async def raise_alert(self, alert: AlertDecision) -> None:
        """Publish the level and the alert at once; the alert row is written by the outbox. The
        alert carries its ``alert_id`` when the row is written within ``alert_id_wait_s`` (no wait
        while the outbox knows the database is unavailable), else ``None`` (and
        :class:`AlertStored` follows when it is); a red handoff and its escalation timer need the
        stored id and follow the row."""
        decision = alert.level
        level, t, red = decision.level, decision.t, alert.handoff
        await self.bus.publish(
            LevelChanged(
                call_id=self.call_id,
                t=t,
                level=level,
                previous=decision.previous,
                reasons=decision.reasons,
            )
        )
        now = self.clock.now()
        key = str(uuid.uuid4())
        self.keys.append(key)
        stored = self.store.submit(
            records.raise_alert(self.call_id, key, level, decision.reasons, t, now, handoff=red), urgent=True
        )
        if not self.store.degraded:  # a database known to be unavailable is not waited for at all
            await asyncio.wait({stored}, timeout=self.settings.live.outbox.alert_id_wait_s)
        written = stored.done() and not stored.cancelled() and stored.exception() is None
        alert_id = stored.result() if written else None
        await self.bus.publish(
            AlertRaised(
                call_id=self.call_id,
                t=t,
                alert_id=alert_id,
                level=level,
                reasons=decision.reasons,
                agent_id=self.info.agent_id,
                high_sensitivity=red,
                alert_key=key,
            )
        )
        self._measure(t)
        if alert_id is not None:
            await self._alert_stored(key, alert_id, t, red, announce=False)
        else:
            task = asyncio.create_task(self._when_stored(stored, key, t, red))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        if alert.queue_qa:
            self.store.submit(records.enqueue_qa(self.call_id, level, alert.qa_reason, now))
            await self.bus.publish(QaQueued(call_id=self.call_id, t=t, level=level, reason=alert.qa_reason))

    def _measure(self, t: float) -> None:
        """Alert latency: the call clock now (from the wall clock) minus the offending words' end
        ``t``; never below zero (audio sent faster than real time runs ahead of the wall clock)."""
        now_s = (self.clock.now() - self.info.started_at).total_seconds()
        self.metrics.alert_published(max(0.0, now_s - t))

    async def _when_stored(self, stored: asyncio.Future[int], key: str, t: float, red: bool) -> None:
        try:
            alert_id = await stored
        except Exception as exc:  # refused for good (logged by the store): no id will come
            log.error("call %s: alert %s could not be stored: %s", self.call_id, key, exc)
            return
        await self._alert_stored(key, alert_id, t, red, announce=True)

    async def _alert_stored(self, key: str, alert_id: int, t: float, red: bool, *, announce: bool) -> None:
        self.ids.append(alert_id)
        if announce:
            await self.bus.publish(
                AlertStored(
                    call_id=self.call_id,
                    t=t,
                    alert_id=alert_id,
                    alert_key=key,
                    agent_id=self.info.agent_id,
                )
            )
        if red:
            after = self.settings.live.escalate_after_s
            await self.bus.publish(
                HandoffRequested(
                    call_id=self.call_id,
                    t=t,
                    alert_id=alert_id,
                    agent_id=self.info.agent_id,
                    escalate_after_s=after,
                )
            )
            self.escalator.schedule(alert_id, self.call_id, self.info.agent_id, self.info.started_at)
