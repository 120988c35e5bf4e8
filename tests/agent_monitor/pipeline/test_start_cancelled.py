"""A call whose start is cancelled while its call row is being written (a client gone, a server
shutting down) leaves no row saying ``live`` with no session holding it: the row, once written,
is ended ``aborted``, the recordings are closed, and the id can be started again.

The database is real, each test once on SQLite and once on PostgreSQL. The write of the call
row is held at its ``INSERT``/``UPDATE`` by a SQLAlchemy event hook on the real engine until the
test lets it go, so that the cancellation lands for certain while the row is being written (a
slow database, made certain)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from agent_monitor.model.audio import Leg
from agent_monitor.model.events import CallEnded, CallStarted, Event
from agent_monitor.pipeline import CallManager, InProcessEventBus
from agent_monitor.settings import Settings
from agent_monitor.storage import CallStatus, Database, repo
from tests.agent_monitor.pipeline.test_call_session import info
from tests.agent_monitor.storage.conftest import BACKENDS
from tests.web.backend_support import backend_database

HELD = 30.0  # seconds a held write waits at most (a test that fails does not hang)


@pytest.fixture(params=BACKENDS)
def live_settings(request: pytest.FixtureRequest, live_settings: Settings) -> Iterator[Settings]:
    """The pipeline's test settings, on each database backend."""
    with backend_database(str(request.param), "the cancelled start tests") as url:
        yield live_settings if url is None else live_settings.model_copy(update={"database_url": url})


class RowGate:
    """Holds the first statement matching ``pattern`` (in the database thread that runs it) until
    :meth:`release`; :attr:`entered` is set when it is held."""

    def __init__(self, database: Database, pattern: str) -> None:
        self.engine = database.engine
        self.pattern = re.compile(pattern)
        self.entered = threading.Event()
        self._go = threading.Event()
        event.listen(self.engine, "before_cursor_execute", self._hold)

    def _hold(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not self.entered.is_set() and self.pattern.match(statement):
            self.entered.set()
            self._go.wait(HELD)

    async def held(self) -> None:
        assert await asyncio.to_thread(self.entered.wait, HELD), "the call row was never written"

    def release(self) -> None:
        self._go.set()

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._hold)


@pytest.fixture()
def gate(database: Database) -> Iterator[Callable[[str], RowGate]]:
    """``gate(pattern)``: a :class:`RowGate` on the test's database, removed after the test."""
    gates: list[RowGate] = []

    def make(pattern: str) -> RowGate:
        gates.append(RowGate(database, pattern))
        return gates[-1]

    yield make
    for g in gates:
        g.release()
        g.close()


def status(database: Database, call_id: str) -> CallStatus:
    with database.session() as s:
        return repo.get_call(s, call_id).status


async def cancel_while_held(manager: CallManager, call_id: str, held_row: RowGate) -> None:
    """Start ``call_id``, cancel the start while ``held_row``'s statement is held, then let the
    statement go on: the start raises ``CancelledError`` once it has undone what it opened."""
    start = asyncio.create_task(manager.start_call(info(call_id)))
    await held_row.held()
    start.cancel()
    held_row.release()
    with pytest.raises(asyncio.CancelledError):
        await start


@pytest.mark.asyncio
async def test_a_start_cancelled_while_the_row_is_written_ends_it_aborted(
    manager: CallManager, database: Database, bus: InProcessEventBus, gate: Callable[[str], RowGate]
) -> None:
    """The row's write runs on in its thread after the start is cancelled and lands: the start
    waits for it and ends the row ``aborted`` before it gives up; nothing was published, and the
    same id starts again (resumed) and ends ``ended``."""
    sub = bus.subscribe(lambda e: isinstance(e, CallStarted | CallEnded))
    await cancel_while_held(manager, "start-cancelled", gate(r"INSERT INTO calls\b"))
    assert manager.get("start-cancelled") is None
    assert status(database, "start-cancelled") is CallStatus.ABORTED
    assert sub.get_nowait() is None  # neither started nor ended on the bus
    again = await manager.start_call(info("start-cancelled"))
    assert again.resumed
    await again.stop("stop")
    assert status(database, "start-cancelled") is CallStatus.ENDED


@pytest.mark.asyncio
async def test_a_cancelled_resume_does_not_leave_the_call_live(
    manager: CallManager, database: Database, gate: Callable[[str], RowGate]
) -> None:
    """An ended call taken up again (a client reconnecting) whose start is cancelled while the
    row is set live again is left ``aborted``, not ``live``."""
    first = await manager.start_call(info("resume-cancelled"))
    await first.stop("stop")
    await cancel_while_held(manager, "resume-cancelled", gate(r"UPDATE calls SET\b.*\bstatus\b"))
    assert status(database, "resume-cancelled") is CallStatus.ABORTED


@pytest.mark.asyncio
async def test_a_resume_cancelled_while_a_recording_is_opened_again_closes_it_again(
    manager: CallManager, database: Database, gate: Callable[[str], RowGate]
) -> None:
    """Resuming a call opens its recordings' rows again (no hash while they grow); a resume
    cancelled while it does so closes them again, with the hash of the whole file, and ends the
    row ``aborted``."""
    first = await manager.start_call(info("reopen-cancelled"))
    first.push_audio(Leg.AGENT, bytes(16000))
    await first.stop("stop")
    await cancel_while_held(manager, "reopen-cancelled", gate(r"UPDATE recordings SET\b"))
    assert status(database, "reopen-cancelled") is CallStatus.ABORTED
    with database.session() as s:
        for leg in Leg:
            rec = repo.require_recording(s, "reopen-cancelled", leg)
            assert rec.closed_at is not None
            assert rec.sha256 == hashlib.sha256(Path(rec.path).read_bytes()).hexdigest()


@pytest.mark.asyncio
async def test_a_shutdown_while_a_call_is_opening_aborts_it_and_logs_no_error(
    manager: CallManager,
    database: Database,
    bus: InProcessEventBus,
    gate: Callable[[str], RowGate],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The server stops while a call's row is being written: the opening is cancelled (the
    caller's start raises ``CancelledError``), its row ends ``aborted`` before the writes stop,
    another call already open is stopped as ever, and no error is logged."""
    sub = bus.subscribe(lambda e: isinstance(e, CallEnded))
    running = await manager.start_call(info("open-before"))
    held_row = gate(r"INSERT INTO calls\b")
    start = asyncio.create_task(manager.start_call(info("opening-at-shutdown")))
    await held_row.held()
    with caplog.at_level(logging.WARNING):
        stopping = asyncio.create_task(manager.shutdown())
        for _ in range(5):  # the shutdown runs up to its first wait
            await asyncio.sleep(0)
        held_row.release()
        await stopping
        with pytest.raises(asyncio.CancelledError):
            await start
    errors = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors
    assert status(database, "opening-at-shutdown") is CallStatus.ABORTED
    assert status(database, "open-before") is CallStatus.ABORTED and running.closed
    ended: list[Event] = []
    while (e := sub.get_nowait()) is not None:
        ended.append(e)
    assert [e.call_id for e in ended] == ["open-before"]
