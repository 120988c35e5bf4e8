"""One call in progress: recordings, per-leg workers, storage, fusion and alerts.

Life cycle: :meth:`CallManager.start_call` opens the session (call row, recordings, workers);
the ingest layer calls :meth:`CallSession.push_audio` for every audio frame of a leg (never
blocks: the frame is written to the leg's recording at once, then queued for recognition; see
:mod:`.audio_in` for the overflow policy); :meth:`CallSession.stop` drains the queues, settles the
last utterances, closes the recordings and ends the call row (``ended`` or ``aborted``).

Nothing here waits on the database: rows go to the call's outbox (:mod:`.store`), which writes them
in order, retries through an outage and spills to a journal. What to do with each hit and stress
sample is decided by the pure :class:`~.policy.AlertPolicy`; this module carries it out. Per rule
hit: an agent-side hit first sends the agent an :class:`AgentWarning`, then the hit is handed to the
outbox (with a uuid key) and published, then fused; a level rise is published
(:class:`LevelChanged`) and its alert handed to the outbox and published (:class:`AlertRaised`, with
its stored id when the row is written within ``live.outbox.alert_id_wait_s``, else with its key only
and an :class:`AlertStored` later); at red the call is handed to supervisors
(:class:`HandoffRequested`, escalation timer) once the alert row exists, and queued for QA.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Literal

from agent_monitor.errors import AgentMonitorError, AudioInputError, SessionClosedError
from agent_monitor.model.audio import Leg
from agent_monitor.model.events import (
    AgentWarning,
    AudioDropped,
    CallEnded,
    DisclosureChecklist,
    RuleHitEvent,
    SignalHealth,
    StressUpdate,
    TranscriptEvent,
)
from agent_monitor.model.health import LegHealth
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.rules import HitEvent, HitStatus, RequiredDisclosure
from agent_monitor.model.session import CallInfo, LegStats, SessionStats
from agent_monitor.model.stress import StressEvent, StressSample
from agent_monitor.model.transcript import Transcript
from agent_monitor.pipeline import records
from agent_monitor.pipeline.alerts import CallAlerts
from agent_monitor.pipeline.audio_watch import AudioWatch
from agent_monitor.pipeline.bus import EventBus
from agent_monitor.pipeline.escalation import Clock, Escalator
from agent_monitor.pipeline.health import CallHealth
from agent_monitor.pipeline.leg import LegWorker
from agent_monitor.pipeline.metrics import NO_METRICS, PipelineMetrics
from agent_monitor.pipeline.policy import AlertPolicy, HitRow
from agent_monitor.pipeline.store import CallStore
from agent_monitor.settings import Settings
from agent_monitor.storage import CallStatus
from agent_monitor.storage.recordings import RecordingWriter

log = logging.getLogger(__name__)

#: stop reasons that end a call normally; any other reason (a disconnect, an error) aborts it
NORMAL_STOP_REASONS = frozenset({"stop", "hangup", "end", "ended", "completed", "end of file"})
#: recording progress is written to the database about this often (seconds of audio)
PROGRESS_EVERY_S = 5.0


class CallSession:
    """A live call (see the module documentation). Create through :class:`CallManager`."""

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
        self.settings = settings
        self.bus = bus
        self.store = store
        self.escalator = escalator
        self.clock = clock
        self.metrics = metrics
        self.policy = AlertPolicy(settings.live.fusion, settings.live.qa_level)
        self.legs: dict[Leg, LegWorker] = {}
        self.recordings: dict[Leg, RecordingWriter] = {}
        self.resumed = False
        self.status: CallStatus = CallStatus.LIVE
        self.stop_reason: str | None = None
        self._tasks: dict[Leg, asyncio.Task[None]] = {}
        self._closing = False
        self._stopping: asyncio.Task[None] | None = None
        self._stopped = asyncio.Event()
        self._stress_batch: list[StressSample] = []
        #: the agent's checklist of required disclosures as last published (empty: none known yet)
        self.checklist: tuple[RequiredDisclosure, ...] = ()
        self._progress_at: dict[Leg, float] = {}
        self.alerts = CallAlerts(info, settings, bus, store, escalator, clock, metrics=metrics)
        #: signal health of the legs (None when ``health.enabled`` is off); events go out via tasks
        self.health = (
            CallHealth(info.call_id, settings.health, info.sample_rate, info.encoding)
            if settings.health.enabled
            else None
        )
        self._publishing: set[asyncio.Task[None]] = set()
        #: work beside the call (its metadata rules' check) that its end waits for, before closing
        self.beside: list[asyncio.Task[None]] = []
        #: judges the legs while no audio arrives at all (live sources; None without health)
        self.audio_watch = (
            AudioWatch(self.health, settings.health.silent_s, self._emit_health)
            if self.health is not None and info.source != "file"
            else None
        )
        self._watching: asyncio.Task[None] | None = None
        self.utterances = 0
        self.stress_samples = 0
        #: called once the session has stopped (the manager forgets it)
        self.on_stopped: Callable[[CallSession], None] | None = None

    # --- properties -------------------------------------------------------------------------------
    @property
    def call_id(self) -> str:
        return self.info.call_id

    @property
    def level(self) -> WarningLevel:
        return self.policy.level

    @property
    def hits(self) -> int:
        """The call's rule hits that stand (a withdrawn provisional hit is taken back)."""
        return self.policy.hits

    @property
    def closed(self) -> bool:
        return self._closing

    @property
    def stats(self) -> SessionStats:
        legs = {}
        for leg, w in self.legs.items():
            rate = w.sample_rate
            legs[leg] = LegStats(
                received_s=w.received_clock,
                processed_s=w.clock,
                queued_s=w.inbox.queued_samples / rate,
                dropped_chunks=w.inbox.dropped_chunks,
                dropped_s=w.inbox.dropped_samples / rate,
            )
        return SessionStats(
            call_id=self.call_id,
            legs=legs,
            level=self.level,
            utterances=self.utterances,
            hits=self.hits,
            alerts=len(self.alerts.keys),
            stress_samples=self.stress_samples,
        )

    def call_time(self) -> float:
        """The call clock now, from the wall clock (for timer-driven events)."""
        return max(0.0, (self.clock.now() - self.info.started_at).total_seconds())

    def start_workers(self) -> None:
        """Start one worker task per leg (the manager calls this once the legs are open)."""
        for leg, worker in self.legs.items():
            if leg not in self._tasks:
                self._tasks[leg] = asyncio.create_task(worker.run(), name=f"{self.call_id}:{leg}")
        if self.audio_watch is not None and self._watching is None:
            self.audio_watch.heard(max((w.received_clock for w in self.legs.values()), default=0.0))
            self._watching = asyncio.create_task(self.audio_watch.run(), name=f"{self.call_id}:audio-watch")

    # --- audio in ---------------------------------------------------------------------------------
    def _accept(self, leg: Leg | str, data: bytes) -> tuple[LegWorker, bytes]:
        if self._closing:
            raise SessionClosedError(f"call {self.call_id} has stopped; audio refused")
        try:
            worker = self.legs[Leg(leg)]
        except (ValueError, KeyError):
            raise AudioInputError(f"call {self.call_id}: unknown leg {leg!r}") from None
        pcm = worker.decoder.decode(bytes(data))
        # the recording first: it must hold everything received, whatever happens to recognition
        self.recordings[worker.leg].write(pcm)
        if self.health is not None:
            for event in self.health.push(worker.leg, pcm, worker.received_clock):
                self._emit_health(event)
        if self.audio_watch is not None:
            self.audio_watch.heard(worker.received_clock)
        return worker, pcm

    def push_audio(self, leg: Leg | str, data: bytes) -> None:
        """Take one frame of a leg's audio (``info.encoding`` at ``info.sample_rate``). Never blocks.

        The frame is appended to the leg's recording, then queued for recognition; when the
        queue is full the frame is dropped from recognition and counted (policy in
        :mod:`agent_monitor.pipeline.audio_in`)."""
        worker, pcm = self._accept(leg, data)
        worker.inbox.put_nowait(pcm)

    def count_dropped(self, leg: Leg | str, samples: int) -> None:
        """Count ``samples`` of a leg's audio as dropped without receiving them (an ingest clock
        jump longer than the leg queue: the rest of the gap is neither recorded nor recognised)."""
        try:
            worker = self.legs[Leg(leg)]
        except (ValueError, KeyError):
            raise AudioInputError(f"call {self.call_id}: unknown leg {leg!r}") from None
        worker.inbox.count_dropped(samples)
        if samples > 0:
            self.metrics.audio_dropped(worker.leg, samples / worker.sample_rate)

    async def push_audio_wait(self, leg: Leg | str, data: bytes) -> None:
        """Like :meth:`push_audio` but waits for queue room instead of dropping (file analysis)."""
        worker, pcm = self._accept(leg, data)
        await worker.inbox.put_wait(pcm)

    # --- results from the leg workers (LegSink) ---------------------------------------------------
    async def on_transcripts(self, leg: Leg, transcripts: list[Transcript]) -> None:
        for tr in transcripts:
            if tr.wordless:  # speech the recognizer made no word of: for signal health only
                self._heard(leg, tr)
                continue
            await self.bus.publish(TranscriptEvent(call_id=self.call_id, t=tr.end, transcript=tr))
            if tr.final:
                self.utterances += 1
                self.store.submit(records.save_utterance(self.call_id, tr))
                self._heard(leg, tr)

    def _heard(self, leg: Leg, final: Transcript) -> None:
        if self.health is not None:
            for event in self.health.heard(leg, final):
                self._emit_health(event)

    async def on_hit_events(
        self, leg: Leg, events: list[HitEvent], t: float, transcript: Transcript | None = None
    ) -> None:
        if (
            transcript is not None
            and not transcript.final
            and any(e.status is HitStatus.PROVISIONAL for e in events)
        ):
            # store the partial so the provisional hit links to its utterance (the final replaces it)
            self.store.submit(records.save_utterance(self.call_id, transcript))
        for event in events:
            await self._hit(event, t)

    async def _hit(self, event: HitEvent, default_t: float) -> None:
        hit, status = event.hit, event.status
        decision = self.policy.on_hit(event, default_t)
        t = decision.t
        if decision.warn_agent:
            await self.bus.publish(
                AgentWarning(
                    call_id=self.call_id,
                    t=t,
                    agent_id=self.info.agent_id,
                    rule=hit.rule,
                    title=hit.title,
                    severity=hit.severity.value,
                    evidence=hit.evidence,
                    reason=hit.reason,
                    compliant=hit.compliant,
                    hit_status=status,
                    citation=hit.citation,
                    leg=hit.leg,
                )
            )
        if decision.row is HitRow.NEW and decision.hit_key is not None:
            self.store.submit(records.save_hit(self.call_id, decision.hit_key, hit, status))
        elif decision.row is HitRow.SETTLE and decision.hit_key is not None:
            self.store.submit(records.settle_hit(self.call_id, decision.hit_key, status, hit))
        await self.bus.publish(
            RuleHitEvent(call_id=self.call_id, t=t, status=status, hit=hit, hit_key=decision.hit_key)
        )
        if decision.alert is not None:
            await self.alerts.raise_alert(decision.alert)

    async def on_checklist(self, leg: Leg, items: tuple[RequiredDisclosure, ...], t: float) -> None:
        """The agent leg's checklist of required disclosures: published when it changes."""
        if leg is not Leg.AGENT or items == self.checklist:
            return
        self.checklist = items
        await self.bus.publish(
            DisclosureChecklist(call_id=self.call_id, t=t, agent_id=self.info.agent_id, items=items)
        )

    async def on_stress(self, leg: Leg, samples: list[StressSample], events: list[StressEvent]) -> None:
        for sample in samples:
            self.stress_samples += 1
            await self.bus.publish(StressUpdate(call_id=self.call_id, t=sample.t, sample=sample))
            self._stress_batch.append(sample)
            alert = self.policy.on_stress(sample)
            if alert is not None:
                await self.alerts.raise_alert(alert)
        if len(self._stress_batch) >= self.settings.live.stress_batch:
            self._flush_stress()

    def _flush_stress(self) -> None:
        if self._stress_batch:
            batch, self._stress_batch = self._stress_batch, []
            self.store.submit(records.add_stress(self.call_id, batch))

    async def on_health(self, health: LegHealth, t: float) -> None:
        """A signal-health change found elsewhere (no model for the leg's language): stored, published."""
        if self._closing:
            raise SessionClosedError(f"call {self.call_id} has stopped; health report refused")
        self._emit_health(SignalHealth(call_id=self.call_id, t=t, health=health))
        await asyncio.gather(*self._publishing)

    def _emit_health(self, event: SignalHealth) -> None:
        """Store and publish a health event from ``push_audio``: a task, awaited before the call ends."""
        self.store.submit(records.save_health(self.call_id, event.t, event.health))
        task = asyncio.get_running_loop().create_task(self.bus.publish(event))
        self._publishing.add(task)
        task.add_done_callback(self._publishing.discard)

    async def on_dropped(self, leg: Leg, chunks: int, seconds: float, t: float) -> None:
        await self.bus.publish(
            AudioDropped(call_id=self.call_id, t=t, leg=leg, chunks=chunks, seconds=seconds)
        )

    async def on_progress(self, leg: Leg, t: float) -> None:
        if t - self._progress_at.get(leg, 0.0) >= PROGRESS_EVERY_S:
            self._progress_at[leg] = t
            writer = self.recordings[leg]
            self.store.submit(records.recording_progress(self.call_id, leg, writer.bytes_written))

    # --- stop -----------------------------------------------------------------------------------
    async def stop(self, reason: str = "stop", *, status: Literal["ended", "aborted"] | None = None) -> None:
        """End the call: drain and settle every leg, close the recordings, end the call row.

        ``status``: ``ended`` for a normal reason (:data:`NORMAL_STOP_REASONS`), else ``aborted``
        (a disconnect, a protocol error, a shutdown); everything received is kept either way.
        Safe to call twice (the first call's reason and status stand; a later call waits). It runs
        in a task of its own: a cancelled caller (a shutdown while the call drains) cannot cut it."""
        if self._stopping is None:
            self._closing = True  # at once: no audio is taken from here on
            self.stop_reason = reason
            if status is None:
                status = "ended" if reason.strip().lower() in NORMAL_STOP_REASONS else "aborted"
            self.status = CallStatus(status)
            self._stopping = asyncio.create_task(self._stop(reason), name=f"stop:{self.call_id}")
            self._stopping.add_done_callback(self._stop_done)
        await asyncio.shield(self._stopping)

    def _stop_done(self, task: asyncio.Task[None]) -> None:
        """A stop that failed is logged here too: its callers may all have been cancelled."""
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.warning("call %s: stopping failed: %r", self.call_id, exc)

    async def _stop(self, reason: str) -> None:
        if self._watching is not None:
            self._watching.cancel()
            await asyncio.gather(self._watching, return_exceptions=True)
        try:
            for worker in self.legs.values():
                worker.inbox.close()
            results = await asyncio.gather(*self._tasks.values(), return_exceptions=True)
            for leg, result in zip(self._tasks, results, strict=True):
                if isinstance(result, BaseException):
                    log.error("call %s: %s leg worker failed: %r", self.call_id, leg, result)
            self._flush_stress()
            await asyncio.gather(*self._publishing, *self.beside)
            await self.close_recordings(at := self.clock.now())
            self.store.submit(records.end_call(self.call_id, self.status, at, self.store.instance))
            await self.store.close()
        finally:
            stats = self.stats
            await self.bus.publish(
                CallEnded(
                    call_id=self.call_id,
                    t=max((w.clock for w in self.legs.values()), default=0.0),
                    status=self.status.value,
                    reason=reason,
                    level=self.level,
                    duration_s=max((s.received_s for s in stats.legs.values()), default=0.0),
                    dropped_chunks=stats.dropped_chunks,
                )
            )
            self._stopped.set()
            if self.on_stopped is not None:
                self.on_stopped(self)

    async def close_recordings(self, at: datetime, stored: Collection[Leg] | None = None) -> None:
        """Close every leg's recording; store the size and hash of those in ``stored`` (all: None)."""
        for leg, writer in self.recordings.items():
            try:
                info = await asyncio.to_thread(writer.close)
            except AgentMonitorError as exc:  # e.g. disk full: the call row must still be ended
                log.error("call %s: %s recording not closed cleanly: %s", self.call_id, leg, exc)
                continue
            if stored is None or leg in stored:
                self.store.submit(records.close_recording(self.call_id, leg, info, at))

    async def wait_stopped(self) -> None:
        await self._stopped.wait()
