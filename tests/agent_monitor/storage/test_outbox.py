"""The write outbox of the live calls (issue #15 item 2) on SQLite and PostgreSQL: writes survive
an unavailable database (spilled to the journal, written back in order), a journal left by a
crash is written at start, and replaying writes never duplicates rows.

The unavailable database is real: an engine pointed at a port where nothing listens (connection
refused); "the database comes back" is the outbox being given the working database again."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from agent_monitor.model.audio import Leg
from agent_monitor.model.events import HandoffEscalated
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.rules import HitStatus, RuleHit, Severity
from agent_monitor.model.session import LevelReason
from agent_monitor.model.stress import BaselineStatus, StressLevel, StressSample
from agent_monitor.model.transcript import Transcript, Word
from agent_monitor.pipeline import InProcessEventBus, records
from agent_monitor.pipeline.escalation import Escalator
from agent_monitor.pipeline.journal import Journal, decode_write, encode_write, journal_path
from agent_monitor.pipeline.outbox import Outbox
from agent_monitor.pipeline.records import Write, run_write
from agent_monitor.pipeline.store import CallStore
from agent_monitor.settings import OutboxSettings
from agent_monitor.storage import CallStatus, repo
from agent_monitor.storage.engine import Database
from agent_monitor.storage.evidence import verify_all
from agent_monitor.storage.recordings import RecordingInfo
from agent_monitor.storage.tables import Alert, QaQueueItem, RuleHitRow, StressSampleRow, Utterance
from tests.agent_monitor.pipeline.conftest import FakeClock

T0 = datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)
FAST = OutboxSettings(
    capacity=2, spill_after_s=0.5, stall_after_s=0.2, retry_first_s=0.05, retry_max_s=0.2, writer_threads=2
)
UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2"


def _transcript(no: int, text: str, final: bool = True) -> Transcript:
    words = tuple(Word(w, no + i * 0.2, no + i * 0.2 + 0.15, 0.8) for i, w in enumerate(text.split()))
    return Transcript(Leg.AGENT, no, float(no), no + 0.2 * len(words), text, final, words)


HIT = RuleHit(
    rule="EN-FALSE-1",
    title="False threat of arrest",
    category="false_legal",
    severity=Severity.RED,
    leg=Leg.AGENT,
    span=(20, 28),
    evidence="arrested",
    reason="threat of arrest",
    citation="FDCPA 807(4)",
    utterance=0,
    start=0.6,
    end=0.75,
)
REASON = LevelReason(
    "rule", WarningLevel.RED, "False threat of arrest", 0.75, rule="EN-FALSE-1", leg=Leg.AGENT
)


def _writes() -> list[Write]:
    """What a short live call writes, in order."""
    stress = [
        StressSample(float(t), 40.0 + t, StressLevel.ELEVATED, BaselineStatus.RELATIVE, 41.0, 0.8)
        for t in (1, 2)
    ]
    info = RecordingInfo(Path("recordings/c1/agent.wav"), 8000, 3200, 1600, "ab" * 32)
    return [
        records.register_recording("c1", Leg.AGENT, "recordings/c1/agent.wav", 8000, T0, "node-1"),
        records.save_utterance("c1", _transcript(0, "we will have you", final=False)),
        records.save_hit("c1", "hit-key-1", HIT, HitStatus.PROVISIONAL),
        records.save_utterance("c1", _transcript(0, "we will have you arrested")),
        records.settle_hit("c1", "hit-key-1", HitStatus.CONFIRMED, HIT),
        records.add_stress("c1", stress),
        records.raise_alert("c1", "alert-key-1", WarningLevel.RED, [REASON], 0.75, T0, handoff=True),
        records.enqueue_qa("c1", WarningLevel.RED, "False threat of arrest", T0),
        records.save_utterance("c1", _transcript(1, "sorry about that")),
        records.recording_progress("c1", Leg.AGENT, 1600),
        records.close_recording("c1", Leg.AGENT, info, T0),
        records.end_call("c1", CallStatus.ENDED, T0, "p1"),
    ]


def _start_call(db: Database) -> None:
    with db.session() as s:
        repo.start_call(s, "c1", "A1", source_protocol="ws_ingest", started_at=T0)


def _counts(db: Database) -> dict[str, int]:
    with db.session() as s:
        return {
            t.__tablename__: int(s.scalar(select(func.count()).select_from(t)) or 0)
            for t in (Utterance, RuleHitRow, StressSampleRow, Alert, QaQueueItem)
        }


EXPECTED = {"utterances": 2, "rule_hits": 1, "stress_samples": 2, "alerts": 1, "qa_queue": 1}


def _check_stored(db: Database) -> None:
    assert _counts(db) == EXPECTED
    with db.session() as s:
        assert repo.get_call(s, "c1").status is CallStatus.ENDED
        (hit,) = repo.list_rule_hits(s, "c1")
        assert hit.status is HitStatus.CONFIRMED and hit.key == "hit-key-1" and hit.utterance_id is not None
        texts = [u.text for u in repo.list_utterances(s, "c1", final_only=True)]
        assert texts == ["we will have you arrested", "sorry about that"]
        (alert,) = repo.list_alerts(s, call_id="c1")
        assert alert.key == "alert-key-1" and repo.get_handoff(s, alert.id) is not None
        assert repo.require_recording(s, "c1", Leg.AGENT).sha256 == "ab" * 32
        assert [p for r in verify_all(s) for p in r.problems] == []


def test_every_write_survives_the_journal_unchanged() -> None:
    for seq, write in enumerate(_writes()):
        assert decode_write(encode_write(seq, write)) == (seq, write)


def test_replaying_every_write_again_duplicates_nothing(db: Database) -> None:
    _start_call(db)
    for _ in range(2):  # a journal written back, then written back again after a crash
        for write in _writes():
            with db.session() as s:
                run_write(s, write)
    _check_stored(db)


async def _until(condition: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.mark.asyncio
async def test_writes_spill_while_the_database_is_down_and_are_written_back_in_order(
    db: Database, tmp_path: Path
) -> None:
    _start_call(db)
    down = Database.open(UNREACHABLE)
    outbox = Outbox(down, FAST, tmp_path / "outbox")
    store = CallStore(outbox, "c1")
    store.start()
    try:
        futures = [store.submit(w) for w in _writes()]  # returns at once, whatever the database does
        await _until(lambda: store.spilled)
        assert store.journal.exists() and outbox.degraded
        assert not any(f.done() for f in futures)
        outbox.db = db  # the database is back: the writer's next retry writes the journal back
        await _until(lambda: not outbox.degraded)  # (a close before that may return, see below)
        await store.close()
        assert all(f.done() and f.exception() is None for f in futures)
        assert not store.journal.exists() and not outbox.degraded
        assert store.errors == 0 and store.spilled_writes >= len(futures) - 1
    finally:
        await outbox.close()
        down.dispose()
    _check_stored(db)


@pytest.mark.asyncio
async def test_a_call_ending_during_the_outage_returns_and_its_writes_follow(
    db: Database, tmp_path: Path
) -> None:
    _start_call(db)
    down = Database.open(UNREACHABLE)
    outbox = Outbox(down, FAST, tmp_path / "outbox")
    store = CallStore(outbox, "c1")
    store.start()
    try:
        futures = [store.submit(write) for write in _writes()]
        alert = futures[6]
        started = time.monotonic()
        await store.close()  # the database is still down: the call ends anyway, nothing is lost
        assert time.monotonic() - started < 5.0
        assert store.journal.exists() and outbox.degraded and not alert.done()
        outbox.db = db  # back: the writer still running in the background writes everything
        await _until(lambda: not outbox.degraded)
        assert not store.journal.exists() and all(f.done() for f in futures)
        assert isinstance(await alert, int)  # whoever waited for the alert's id gets it
    finally:
        await outbox.close()
        down.dispose()
    _check_stored(db)


@pytest.mark.asyncio
async def test_a_shutdown_during_the_outage_keeps_the_writes_for_the_next_start(
    db: Database, tmp_path: Path
) -> None:
    _start_call(db)
    down = Database.open(UNREACHABLE)
    outbox = Outbox(down, FAST, tmp_path / "outbox")
    store = CallStore(outbox, "c1")
    store.start()
    for write in _writes()[:3]:
        store.submit(write)
    await _until(lambda: store.failing_since is not None)  # the first write is being retried
    for write in _writes()[3:]:
        store.submit(write)
    await store.close()
    await outbox.close()  # the server stops while the database is still down
    down.dispose()
    assert store.journal.exists()
    entries, _ = store.journal.read()
    assert [w for _, w in entries] == _writes()  # every write, in order, the one in flight first
    restarted = Outbox(db, FAST, tmp_path / "outbox")
    restarted.start()
    try:
        await _until(lambda: not store.journal.exists())
    finally:
        await restarted.close()
    _check_stored(db)


async def _written_back(db: Database, folder: Path, journal: Journal) -> None:
    """An outbox started on ``folder`` (as a server starts) until it has written ``journal`` back."""
    outbox = Outbox(db, FAST, folder)
    outbox.start()
    try:
        await _until(lambda: not journal.exists())
    finally:
        await outbox.close()


@pytest.mark.asyncio
async def test_a_journal_left_by_a_crash_is_written_back_at_start(db: Database, tmp_path: Path) -> None:
    _start_call(db)
    journal = Journal(journal_path(tmp_path / "outbox", "c1"))
    writes = list(enumerate(_writes()))
    journal.append(writes[:7])
    for _, write in writes[:4]:  # these reached the database before the crash
        with db.session() as s:
            run_write(s, write)
    journal.append(writes[7:])
    with journal.path.open("a") as f:
        f.write('{"seq": 99, "op": "save_utt')  # torn by the crash
    await _written_back(db, tmp_path / "outbox", journal)
    _check_stored(db)


@pytest.mark.asyncio
async def test_a_journal_from_before_recordings_named_their_writer_is_written_back(
    db: Database, tmp_path: Path
) -> None:
    """A journal spilled by a version whose ``register_recording`` had no ``writer`` (before
    migration 0017) is written back after an upgrade: the recording names no writer."""
    _start_call(db)
    journal = Journal(journal_path(tmp_path / "outbox", "c1"))
    old = {"call_id": "c1", "leg": Leg.AGENT, "path": "recordings/c1/agent.wav", "rate": 8000, "at": T0}
    journal.append([(0, Write("register_recording", old))])
    await _written_back(db, tmp_path / "outbox", journal)
    with db.session() as s:
        rec = repo.require_recording(s, "c1", Leg.AGENT)
        assert rec.path == "recordings/c1/agent.wav" and rec.writer is None and rec.sha256 is None


@pytest.mark.asyncio
async def test_a_handoff_due_during_an_outage_is_escalated_at_once_and_recorded_later(db: Database) -> None:
    _start_call(db)
    with db.session() as s:
        alert = repo.raise_alert(
            s, "c1", WarningLevel.RED, [{"rule": "EN-FALSE-1"}], raised_at_s=0.75, raised_at=T0, handoff=True
        )
        alert_id = alert.id
    down = Database.open(UNREACHABLE)
    bus = InProcessEventBus()
    clock = FakeClock(T0)
    escalator = Escalator(down, bus, clock, after_s=30.0)
    with bus.subscribe() as sub:
        escalator.schedule(alert_id, "c1", "A1", T0)
        await _until(lambda: clock.sleepers == 1)
        await clock.advance(31.0)
        await _until(lambda: sub.pending > 0)
        event = sub.get_nowait()
        assert isinstance(event, HandoffEscalated) and event.alert_id == alert_id
    escalator.db = db  # the database is back: the escalation is recorded

    def recorded() -> bool:
        with db.session() as s:
            handoff = repo.get_handoff(s, alert_id)
            return handoff is not None and handoff.escalated_at is not None

    await _until(recorded)
    await escalator.shutdown()
    down.dispose()
    with db.session() as s:
        assert [e.action.value for e in repo.alert_events(s, alert_id)] == ["handoff_requested", "escalated"]
