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
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from agent_monitor.errors import AgentMonitorError, CallAlreadyLiveError, DatabaseUnavailableError
from agent_monitor.heap_trim import HeapTrimmer
from agent_monitor.model.audio import BYTES_PER_SAMPLE, Leg
from agent_monitor.model.events import AlertStateChanged, CallStarted
from agent_monitor.model.health import HealthIssue, LegHealth
from agent_monitor.model.rules import CallFacts
from agent_monitor.model.session import CallInfo, Holder
from agent_monitor.model.stages import CheckerFactory, LegChecker, PackSelection, Stages
from agent_monitor.model.transcript import Transcript
from agent_monitor.pipeline import records
from agent_monitor.pipeline.bus import EventBus
from agent_monitor.pipeline.call_metadata import check_call_metadata
from agent_monitor.pipeline.escalation import Clock, Escalator, SystemClock
from agent_monitor.pipeline.leg import LegWorker
from agent_monitor.pipeline.metrics import NO_METRICS, PipelineMetrics
from agent_monitor.pipeline.opening import FloorNodes, RowOpening, open_recordings, undo_opening
from agent_monitor.pipeline.outbox import Outbox, is_transient
from agent_monitor.pipeline.session import CallSession
from agent_monitor.pipeline.store import CallStore
from agent_monitor.settings import Settings
from agent_monitor.storage import Database, repo

log = logging.getLogger(__name__)

#: why a call start the database could not take was refused
DATABASE_AWAY = "the database is not available right now; try again"


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
        (:mod:`agent_monitor.pipeline.opening`). While the database is not available (down, or
        every pooled connection busy) the opening is tried again, for up to
        ``live.outbox.spill_after_s``; then it is a :class:`DatabaseUnavailableError` (the client
        may try again). A new call's metadata rules are checked beside it (the start does not wait
        on the database for them: :func:`check_call_metadata`)."""
        await self._wait_stopping(info.call_id)
        if info.call_id in self._sessions:
            raise CallAlreadyLiveError(f"call {info.call_id!r} is already live")
        self.outbox.start()
        self.heap.busy()
        stages = self.stages  # the rule set in use now, for the whole call
        opening = self._opening[info.call_id] = _Opening(asyncio.current_task())
        try:
            session = await self._open_retrying(info, stages)
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
        if not session.resumed and not session.closed:  # checked beside the call, not awaited here
            check = check_call_metadata(session, stages.checkers, self.db, self.settings.rules)
            session.beside.append(asyncio.create_task(check, name=f"{info.call_id}:metadata-rules"))
        return session

    async def _open_retrying(self, info: CallInfo, stages: Stages) -> CallSession:
        """A new session for ``info`` opened (:meth:`_open`), its id reserved among the sessions
        meanwhile; opened again (0.5 s, doubling) while the database is not available, until
        ``live.outbox.spill_after_s`` has passed, and only once the failed opening's own writes
        are done (one that wrote the row ends it ``aborted``: still waiting, it would end the
        next opening's call after it)."""
        give_up = time.monotonic() + self.settings.live.outbox.spill_after_s
        delay = 0.5
        while True:
            store = CallStore(self.outbox, info.call_id, self.holder.instance)
            session = CallSession(
                info, self.settings, self.bus, store, self.escalator, self.clock, metrics=self.metrics
            )
            self._sessions[info.call_id] = session  # reserve the id while opening
            try:
                await self._open(session, stages)
                return session
            except Exception as exc:
                if isinstance(exc, AgentMonitorError) or not is_transient(exc):
                    raise
                if not session.store.settled or time.monotonic() + delay > give_up:
                    log.warning("call %s: not started: the database is not available: %s", info.call_id, exc)
                    raise DatabaseUnavailableError(DATABASE_AWAY) from exc
                log.info("call %s: the database is not available, opening again: %s", info.call_id, exc)
            await asyncio.sleep(delay)
            delay *= 2

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
