"""The call manager: starts, finds and stops the call sessions of one server process.

Built once with the process's shared pieces (settings, the :class:`Stages` from the composition
root: speech models, rule set, stress scorers; the database, the event bus) and an optional clock
(tests pass a fake one to drive the escalation timer). Supervisor actions on alerts go through it so
the bus hears of them and escalation stops.

Each call's legs get a transcriber for the call's language (``info.lang``). When that language
has no installed model the call is still opened, recorded and stored, recognition of its
legs is off, and a :class:`SignalHealth` event per leg (``no zh model installed: not transcribed``)
follows :class:`CallStarted` so the wall, the agent panel and QA say so.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from agent_monitor.errors import AgentMonitorError, CallAlreadyLiveError
from agent_monitor.heap_trim import HeapTrimmer
from agent_monitor.model.audio import BYTES_PER_SAMPLE, Leg
from agent_monitor.model.calls import CallRecord, jurisdiction_of
from agent_monitor.model.events import AlertStateChanged, CallStarted
from agent_monitor.model.health import HealthIssue, LegHealth
from agent_monitor.model.rules import CallFacts, HitEvent, HitStatus
from agent_monitor.model.session import CallInfo, Holder
from agent_monitor.model.stages import CheckerFactory, LegChecker, PackSelection, Stages
from agent_monitor.model.transcript import Transcript
from agent_monitor.pipeline import records
from agent_monitor.pipeline.bus import EventBus
from agent_monitor.pipeline.escalation import Clock, Escalator, SystemClock
from agent_monitor.pipeline.leg import LegWorker
from agent_monitor.pipeline.metrics import NO_METRICS, PipelineMetrics
from agent_monitor.pipeline.opening import FloorNodes, RowOpening, open_recordings, undo_opening
from agent_monitor.pipeline.outbox import Outbox
from agent_monitor.pipeline.session import CallSession
from agent_monitor.pipeline.store import CallStore
from agent_monitor.settings import Settings
from agent_monitor.storage import Database, repo

log = logging.getLogger(__name__)


class CallManager:
    """Live call sessions of this process (see the module documentation)."""

    def __init__(
        self,
        settings: Settings,
        stages: Stages,
        db: Database,
        bus: EventBus,
        *,
        clock: Clock | None = None,
        metrics: PipelineMetrics = NO_METRICS,
    ) -> None:
        self.settings = settings
        #: this process (a node restarted is another instance): the holder named on its calls' rows
        self.holder = Holder(settings.node_id, uuid.uuid4().hex)
        #: the floor this node takes calls on (set when it joins one): a call live on another
        #: node is refused there
        self.floor: FloorNodes | None = None
        self.metrics = metrics
        self.stages = stages
        self.db = db
        self.bus = bus
        self.clock: Clock = clock or SystemClock()
        self.escalator = Escalator(db, bus, self.clock, settings.live.escalate_after_s)
        #: the database writes of every call go through it (never waited on by the live path)
        self.outbox = Outbox(db, settings.live.outbox, settings.data_dir / "outbox", metrics)
        self._sessions: dict[str, CallSession] = {}
        #: the calls still opening (their row, recordings and legs), cancelled by :meth:`shutdown`
        self._opening: dict[str, _Opening] = {}
        #: gives the memory of ended calls back to the system once none is live
        self.heap = HeapTrimmer(settings.server.trim_heap_after_idle_s)
        #: held while the rule set is rebuilt and swapped (:mod:`agent_monitor.pipeline.rule_packs`)
        self.rules_lock = asyncio.Lock()
        #: the stored pack choices last applied (or found not to load; None: none read yet)
        self.packs: PackSelection | None = None

    def get(self, call_id: str) -> CallSession | None:
        """The call's session from its opening's end until its end is published (one still
        opening is not this node's yet: it may be refused)."""
        return None if call_id in self._opening else self._sessions.get(call_id)

    def use_checkers(self, checkers: CheckerFactory) -> None:
        """Calls that start from now on are checked by ``checkers`` (running calls keep theirs)."""
        self.stages = replace(self.stages, checkers=checkers)

    def live_calls(self) -> list[CallSession]:
        return [s for s in self.held_calls() if not s.closed]

    def opening_calls(self) -> list[str]:
        """The ids of the calls whose opening runs now (not yet held: it may be refused)."""
        return list(self._opening)

    def held_calls(self) -> list[CallSession]:
        """The calls this node holds until their end is published: the live ones and those
        stopping (still finishing their audio), for the floor's registry; not one still opening
        (an opening refused because another node holds the call must not list it here)."""
        return [s for call_id, s in self._sessions.items() if call_id not in self._opening]

    async def start_call(self, info: CallInfo) -> CallSession:
        """Open a session: the call row (resumed if the id exists), one recording and one worker
        per leg, then :class:`CallStarted`. Raises :class:`CallAlreadyLiveError` for a live id; a
        call still stopping (its connection has just ended) is resumed once it has stopped. A
        start that fails or is cancelled (here, or by :meth:`shutdown`) leaves no row ``live``
        (:mod:`agent_monitor.pipeline.opening`)."""
        await self._wait_stopping(info.call_id)
        if info.call_id in self._sessions:
            raise CallAlreadyLiveError(f"call {info.call_id!r} is already live")
        self.outbox.start()
        self.heap.busy()
        stages = self.stages  # the rule set in use now, for the whole call
        store = CallStore(self.outbox, info.call_id, self.holder.instance)
        session = CallSession(
            info, self.settings, self.bus, store, self.escalator, self.clock, metrics=self.metrics
        )
        self._sessions[info.call_id] = session  # reserve the id while opening
        opening = self._opening[info.call_id] = _Opening(asyncio.current_task())
        try:
            await self._open(session, stages)
        except BaseException:
            self._sessions.pop(info.call_id, None)
            raise
        finally:
            del self._opening[info.call_id]
            opening.done.set()
        session.start_workers()
        info = session.info  # a resumed call: the debt and consent it was stored with
        await self.bus.publish(CallStarted(call_id=info.call_id, t=0.0, info=info, resumed=session.resumed))
        if not self.stages.transcribers.can_transcribe(info.lang):
            await self._not_transcribed(session)
        if not session.resumed:
            await self._metadata_rules(session, stages.checkers)
        return session

    async def _open(self, session: CallSession, stages: Stages) -> None:
        """On a floor, a call live on another node refused first; the recordings (one that cannot
        go on leaves a stored call as it was), the call row, the legs; what a failed or cancelled
        opening opened is closed (:func:`undo_opening`)."""
        row = RowOpening(session, self.holder, self.floor)
        try:
            await row.refuse_held_elsewhere()
            await open_recordings(session, self.settings)
            session.info, session.resumed, next_utterance = await row.open()
            session.store.start()
            await row.register_recordings()
            await self._open_legs(session, next_utterance, stages)
        except BaseException:
            await undo_opening(session, row, self.clock.now(), self.settings.live.outbox.spill_after_s)
            raise

    async def _wait_stopping(self, call_id: str) -> None:
        """Wait while this call's session is stopping (draining its last audio, ending its rows):
        a client reconnecting at once resumes the call instead of being refused as live."""
        held = self._sessions.get(call_id)
        while held is not None and held.closed:
            await held.wait_stopped()
            after = self._sessions.get(call_id)
            if after is held:  # stopped but still held (stopped while it was opening): refused
                return
            held = after

    async def _not_transcribed(self, session: CallSession) -> None:
        """The call's language has no model: say so for each leg (recording goes on)."""
        missing = self.stages.transcribers.missing_model(session.info.lang)
        log.warning("call %s: %s (%s)", session.call_id, missing.message, missing.reason)
        for leg in session.legs:  # stored with the call and published, as the monitor's own
            health = LegHealth(leg, HealthIssue.NO_MODEL, True, missing.message)
            await session.on_health(health, session.legs[leg].t0)

    async def _open_legs(self, session: CallSession, next_utterance: dict[Leg, int], stages: Stages) -> None:
        info = session.info
        await self._align_recordings(session)
        history = await session.store.now(records.call_history(info.call_id)) if session.resumed else None
        if history is not None:
            session.policy.restore(history.findings)
        facts = CallFacts()  # what one leg's rules learn that the other's read
        for leg in (Leg.AGENT, Leg.DEBTOR):
            session.legs[leg] = await self._leg_worker(
                session, leg, next_utterance.get(leg, 0), stages, facts
            )
            checker = session.legs[leg].checker
            if history is not None and checker is not None:
                await asyncio.to_thread(_replay, checker, history.finals[leg])
        session.on_stopped = self._forget

    async def _leg_worker(
        self, session: CallSession, leg: Leg, first_utterance: int, stages: Stages, facts: CallFacts
    ) -> LegWorker:
        """One leg's worker with its stages: a transcriber and a rule checker when the call's
        language is transcribed, a stress scorer when the leg's speaker is scored."""
        info = session.info
        t0 = session.recordings[leg].duration
        scorer = None
        if stages.stress.scored(leg):
            scorer = await asyncio.to_thread(stages.stress.scorer, leg, t0)
        transcriber, checker = None, None
        if stages.transcribers.can_transcribe(info.lang):
            checker = stages.checkers.checker(info.lang, leg, facts)
            transcriber = await stages.transcribers.transcriber(
                info.lang,
                leg,
                t0=t0,
                first_utterance=first_utterance,
                keywords=stages.checkers.key_terms(info.lang, leg),
            )
        return LegWorker(
            leg=leg,
            settings=self.settings,
            runner=stages.runner,
            transcriber=transcriber,
            checker=checker,
            scorer=scorer,
            sink=session,
            encoding=info.encoding,
            sample_rate=info.sample_rate,
            t0=t0,
            metrics=self.metrics,
        )

    @staticmethod
    async def _align_recordings(session: CallSession) -> None:
        """A resumed call continues both legs at one call time: a leg whose recording is shorter
        (it stopped earlier, or its last writes failed) is padded with silence to the longer one."""
        writers = session.recordings
        longest = max(w.samples_written for w in writers.values())
        step = session.info.sample_rate  # one second of silence at a time
        for writer in writers.values():
            missing = longest - writer.samples_written
            while missing > 0:
                n = min(step, missing)
                await asyncio.to_thread(writer.write, bytes(n * BYTES_PER_SAMPLE))
                missing -= n

    async def _metadata_rules(self, session: CallSession, checkers: CheckerFactory) -> None:
        """Rules on the call's metadata, at its start: calling hours in the debtor's time zone, and
        call frequency (Regulation F for US calls, a daily cap for PRC calls) over this debtor's
        stored calls. US or PRC rules: by the debtor's time zone, else the call's language
        (:func:`jurisdiction_of`). A call that comes without a time zone is judged in every zone
        the debtor's stored calls gave. Calls are counted per debt (the call's ``debt_id``, else its
        debtor id; a call giving neither, with every stored call to its phone number:
        :attr:`CallInfo.frequency_key`) and a call made with the debtor's prior consent is not
        counted (:func:`repo.debtor_calls_since`)."""
        info = session.info
        zones = info.debtor_zones or await self._stored_zones(info)
        if not zones:
            return
        record = CallRecord(
            call_id=info.call_id,
            debtor_id=info.debtor_id or info.call_id,
            debt_id=info.frequency_key or info.call_id,
            placed_at=info.started_at,
            debtor_timezones=zones,
            jurisdiction=jurisdiction_of(zones[0], info.lang),
            connected=True,
            consented=info.consented,
            by_phone=info.by_phone,
        )
        try:
            hits = checkers.calling_hours([record])
            if info.frequency_key is not None:
                history = await self._debtor_history(record, info)
                hits += checkers.call_frequency(info.call_id, [*history, record])
        except AgentMonitorError as exc:
            log.warning("call %s: call-metadata rules not checked: %s", info.call_id, exc)
            return
        await session.on_hit_events(Leg.AGENT, [HitEvent(HitStatus.CONFIRMED, h) for h in hits], 0.0)

    async def _stored_zones(self, info: CallInfo) -> tuple[str, ...]:
        """The time zones of the debtor's other stored calls (without a debtor id: of the other
        calls about the call's debt; without either: to its phone number; none without any)."""
        if info.frequency_key is None:
            return ()
        debtor_id, debt_id, phone_key = info.debtor_id or None, info.debt_id, info.phone_key

        def job() -> tuple[str, ...]:
            with self.db.session() as s:
                return tuple(
                    repo.debtor_time_zones(
                        s, debtor_id, besides=info.call_id, debt_id=debt_id, phone_key=phone_key
                    )
                )

        return await asyncio.to_thread(job)

    async def _debtor_history(self, current: CallRecord, info: CallInfo) -> list[CallRecord]:
        """The debtor's earlier calls within the frequency rule's reach, as call records (each with
        its own debt and consent); a call that came with a debt id but no debtor id: the earlier
        calls about that debt; with neither: the earlier calls to its phone number, all counted
        with it (its own debt is not known)."""
        debtor_id, phone_key, by_phone = info.debtor_id or None, info.phone_key, info.by_phone
        rules = self.settings.rules
        days = max(rules.freq_window_days, rules.freq_after_conversation_days) + 1
        since = current.placed_at - timedelta(days=days)

        def job() -> list[CallRecord]:
            with self.db.session() as s:
                rows = repo.debtor_calls_since(
                    s, debtor_id, since, besides=current.call_id, debt_id=info.debt_id, phone_key=phone_key
                )
                return [
                    replace(
                        current,
                        call_id=row.call.id,
                        debt_id=current.debt_id if by_phone else row.debt_id,
                        placed_at=row.call.started_at,
                        debtor_timezones=repo.stored_zones(row.call.debtor_tz)
                        or current.debtor_timezones[:1],
                        conversation=row.conversation,
                        consented=row.consented,
                    )
                    for row in rows
                    if row.call.started_at <= current.placed_at
                ]

        return await asyncio.to_thread(job)

    def _forget(self, session: CallSession) -> None:
        if self._sessions.get(session.call_id) is session:
            del self._sessions[session.call_id]
        if not self._sessions:
            self.heap.idle()

    # --- supervisor actions ---------------------------------------------------------------------
    async def acknowledge_alert(self, alert_id: int, by: str, note: str | None = None) -> None:
        """Acknowledge an alert (stops its escalation) and publish :class:`AlertStateChanged`."""
        await self._alert_step(alert_id, "acknowledged", by, note)

    async def resolve_alert(self, alert_id: int, by: str, note: str | None = None) -> None:
        await self._alert_step(alert_id, "resolved", by, note)

    async def take_over(self, alert_id: int, by: str, note: str | None = None) -> None:
        """A supervisor takes the call over (acknowledging the alert if nobody had)."""
        await self._alert_step(alert_id, "taken_over", by, note)

    async def _alert_step(self, alert_id: int, state: str, by: str, note: str | None) -> None:
        now = self.clock.now()

        def job() -> tuple[str, float]:
            with self.db.session() as s:
                if state == "acknowledged":
                    alert = repo.acknowledge_alert(s, alert_id, by, at=now, note=note)
                elif state == "resolved":
                    alert = repo.resolve_alert(s, alert_id, by, at=now, note=note)
                else:
                    repo.take_over(s, alert_id, by, at=now, note=note)
                    alert = repo.get_alert(s, alert_id)
                started = repo.get_call(s, alert.call_id).started_at
                return alert.call_id, (now - started).total_seconds()

        call_id, t = await asyncio.to_thread(job)
        self.escalator.cancel(alert_id)
        await self.bus.publish(
            AlertStateChanged(
                call_id=call_id, t=max(0.0, t), alert_id=alert_id, state=state, by=by, note=note
            )
        )

    # --- shutdown -------------------------------------------------------------------------------
    async def shutdown(self, reason: str = "server shutdown") -> None:
        """Stop every live call (status aborted; everything received is kept) and the timers. A
        call still opening is cancelled (its start raises :class:`asyncio.CancelledError`) and its
        row, if written, ended aborted, before the writes stop."""
        opening = list(self._opening.values())
        for start in opening:
            if start.task is not None:
                start.task.cancel()
        for start in opening:
            await start.done.wait()
        sessions = list(self._sessions.values())
        results = await asyncio.gather(*(s.stop(reason) for s in sessions), return_exceptions=True)
        for session, result in zip(sessions, results, strict=True):
            if isinstance(result, BaseException):
                log.error("call %s: stopping failed: %r", session.call_id, result)
        await self.escalator.shutdown()
        await self.outbox.close()


@dataclass(slots=True)
class _Opening:
    """A call's start in progress: the task it runs in, and ``done`` set when it has ended."""

    task: asyncio.Task[Any] | None
    done: asyncio.Event = field(default_factory=asyncio.Event)


def _replay(checker: LegChecker, finals: Sequence[Transcript]) -> None:
    """A resumed call's new rule checker learns what was said before (the disclosures given,
    the utterances closed); the events it gives were handled by the earlier session."""
    for transcript in finals:
        checker.update(transcript)
