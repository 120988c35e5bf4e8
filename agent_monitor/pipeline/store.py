"""The outbox between the live calls and the database: writes never hold up detection.

A call session publishes its events on the bus first and hands the rows to its :class:`CallStore`
(:meth:`CallStore.submit` returns at once, never raises for a slow or absent database). Each
call's writes run in submission order (an utterance before the hits that point at it), one short
transaction each, in the :class:`Outbox`'s own threads (so a stalled database cannot starve other
work of threads).

**Policy.** Nothing is dropped: transcripts, rule hits, alerts, stress, recordings, call ends.

- A write that fails because the database is unavailable (connection refused or lost, locked,
  timed out: :data:`TRANSIENT`) is retried with back-off (``retry_first_s`` doubling to
  ``retry_max_s``) until it succeeds; the writes after it wait behind it in memory.
- When ``capacity`` writes are waiting, or the database has failed (or one write has hung) for
  ``spill_after_s``, the waiting writes are spilled, in order, to the call's journal on disk
  (:mod:`.journal`), and so is every later write until the journal is written back. When the
  database answers again, the journal is replayed in order, then removed.
- Every write is idempotent (:mod:`.records`), so a journal replayed again after a crash does
  not duplicate rows. A session closing while the database is still down returns after
  ``spill_after_s``; its writer carries on in the background. At shutdown, unwritten writes stay
  in the journal, and the :class:`Outbox` writes back journals left by an earlier run at start.
- A write refused for any other reason (a bug, a constraint) is logged with its traceback,
  counted in ``errors`` and skipped: retrying cannot fix it.

:attr:`Outbox.degraded` is true while any write is failing, hanging for ``stall_after_s`` or
spilled; ``/healthz`` reports it as ``degraded: database``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from agent_monitor.errors import DatabaseUnavailableError, PipelineError, StorageError
from agent_monitor.pipeline.journal import Journal, journal_path
from agent_monitor.pipeline.metrics import NO_METRICS, PipelineMetrics
from agent_monitor.pipeline.records import Write, run_write
from agent_monitor.settings import OutboxSettings
from agent_monitor.storage import Database

T = TypeVar("T")
log = logging.getLogger(__name__)

#: failures that mean "the database is not available now": retried, never dropped
TRANSIENT: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
    DatabaseUnavailableError,
    ConnectionError,
)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, TRANSIENT)


class Outbox:
    """What the call stores of one process share: threads, the journal folder, health, and the
    replay of journals left by an earlier run (a crash, or a shutdown during an outage)."""

    def __init__(
        self, db: Database, settings: OutboxSettings, journal_dir: Path, metrics: PipelineMetrics = NO_METRICS
    ) -> None:
        self.db = db
        self.metrics = metrics
        self.settings = settings
        self.journal_dir = journal_dir
        self.executor = ThreadPoolExecutor(settings.writer_threads, thread_name_prefix="db-write")
        self.stores: set[CallStore] = set()
        #: journals left by an earlier run, not yet written back
        self._orphans: set[Path] = set()
        self._task: asyncio.Task[None] | None = None

    # --- health -----------------------------------------------------------------------------------
    @property
    def degraded(self) -> bool:
        """The database is not taking the live writes now (failing, hanging or spilled)."""
        return bool(self._orphans) or any(s.degraded for s in self.stores)

    def summary(self) -> dict[str, Any]:
        return {
            "degraded": self.degraded,
            "queued": sum(s.queued for s in self.stores),
            "spilled_calls": sum(1 for s in self.stores if s.spilled) + len(self._orphans),
            "failing_calls": sum(1 for s in self.stores if s.failing_since is not None),
        }

    # --- running writes ---------------------------------------------------------------------------
    def transaction(self, fn: Callable[[Session], T]) -> T:
        with self.db.session() as session:
            return fn(session)

    async def run(self, write: Write) -> Any:
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        try:
            return await loop.run_in_executor(self.executor, self.transaction, lambda s: run_write(s, write))
        finally:
            self.metrics.db_write(time.perf_counter() - started)

    async def run_until_done(self, write: Write, on_failure: Callable[[BaseException], None]) -> Any:
        """Run ``write``, retrying while the database is unavailable; other errors are raised."""
        delay = self.settings.retry_first_s
        while True:
            try:
                return await self.run(write)
            except Exception as exc:
                if not is_transient(exc):
                    raise
                on_failure(exc)
            await asyncio.sleep(delay)
            delay = min(self.settings.retry_max_s, delay * 2)

    # --- journals left by an earlier run -----------------------------------------------------------
    def start(self) -> None:
        """Find journals left by an earlier run and write them back in the background."""
        if self._task is not None:
            return
        if self.journal_dir.is_dir():
            owned = {s.journal.path for s in self.stores}
            self._orphans.update(p for p in self.journal_dir.glob("*.jsonl") if p not in owned)
        self._task = asyncio.create_task(self._replay_orphans(), name="outbox-orphans")

    async def _replay_orphans(self) -> None:
        for path in sorted(self._orphans):
            try:
                await replay_journal(self, Journal(path))
            except Exception:  # unreadable: left on disk (and reported degraded) for a person to look at
                log.exception("outbox journal %s: cannot be written back", path)
                continue
            self._orphans.discard(path)

    async def close(self) -> None:
        """Stop (server shutdown): writers still waiting for the database keep their writes in
        their journals, which the next start writes back; then the threads."""
        for store in list(self.stores):
            await store.abandon()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.executor.shutdown(wait=False, cancel_futures=True)


async def replay_journal(outbox: Outbox, journal: Journal) -> None:
    """Write back every entry of a journal left by an earlier run, in order (retrying while the
    database is unavailable), then remove it."""
    entries, _ = await asyncio.to_thread(journal.read, 0)
    for seq, write in entries:
        try:
            await outbox.run_until_done(write, lambda exc: None)
        except Exception:
            log.exception("%s: entry %d (%s) refused by the database; skipped", journal.path, seq, write.op)
    await asyncio.to_thread(journal.remove)
    log.warning("outbox journal %s written back to the database (%d writes)", journal.path, len(entries))


class CallStore:
    """The ordered, never-blocking writes of one call (see the module documentation)."""

    def __init__(self, outbox: Outbox, call_id: str) -> None:
        self.outbox = outbox
        self.db = outbox.db
        self.call_id = call_id
        self.settings = outbox.settings
        self.journal = Journal(journal_path(outbox.journal_dir, call_id))
        self._memory: deque[tuple[int, Write]] = deque()
        self._futures: dict[int, asyncio.Future[Any]] = {}
        self._seq = 0
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        #: writes go to the journal (it holds writes older than anything in memory)
        self.spilled = self.journal.exists()
        #: monotonic time the database started failing for this call (None: it works)
        self.failing_since: float | None = None
        #: monotonic start of the write in progress
        self._write_started: float | None = None
        #: the write in progress when it came from memory (not yet in the journal)
        self._inflight: tuple[int, Write] | None = None
        self.errors = 0
        self.writes = 0
        self.spilled_writes = 0
        self.last_error: str | None = None

    # --- state --------------------------------------------------------------------------------------
    def _trouble_s(self) -> float:
        now = time.monotonic()
        failing = 0.0 if self.failing_since is None else now - self.failing_since
        hanging = 0.0 if self._write_started is None else now - self._write_started
        return max(failing, hanging)

    @property
    def queued(self) -> int:
        return len(self._memory)

    @property
    def degraded(self) -> bool:
        trouble = self._trouble_s() >= self.settings.stall_after_s
        return self.spilled or self.failing_since is not None or trouble

    # --- submitting ---------------------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None:
            self.outbox.stores.add(self)
            self._task = asyncio.create_task(self._run(), name=f"store:{self.call_id}")

    def submit(self, write: Write) -> asyncio.Future[Any]:
        """Queue ``write``; returns at once. Its future resolves when the row is written."""
        if self._task is None:
            raise PipelineError(f"call {self.call_id}: storage writer is not running")
        self._seq += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._futures[self._seq] = future
        if (
            not self.spilled
            and len(self._memory) < self.settings.capacity
            and self._trouble_s() < self.settings.spill_after_s
        ):
            self._memory.append((self._seq, write))
        else:
            self._spill([(self._seq, write)])
        self._wakeup.set()
        return future

    async def call(self, write: Write) -> Any:
        """Queue ``write`` and wait until it is written (start-up only: waits out an outage)."""
        return await self.submit(write)

    async def now(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn(session)`` at once, outside the queue (reads, or before ``start``)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.outbox.executor, self.outbox.transaction, fn)

    def _spill(self, extra: list[tuple[int, Write]]) -> None:
        entries = [*self._memory, *extra]
        try:
            self.journal.append(entries, sync=not self.spilled)
        except StorageError as exc:
            # the disk refuses as well: keep the writes in memory (beyond capacity), never lose them
            log.error("call %s: %s; writes kept in memory", self.call_id, exc)
            self._memory.extend(extra)
            return
        self._memory.clear()
        if not self.spilled:
            log.warning(
                "call %s: database unavailable; writes spilled to %s", self.call_id, self.journal.path
            )
        self.spilled = True
        self.spilled_writes += len(entries)

    def _failed(self, exc: BaseException) -> None:
        if self.failing_since is None:
            self.failing_since = time.monotonic()
            log.warning("call %s: database write failed, retrying: %s", self.call_id, exc)
        self.last_error = str(exc)
        if self._memory and self._trouble_s() >= self.settings.spill_after_s:
            self._spill([])

    # --- the writer ---------------------------------------------------------------------------------
    async def _run(self) -> None:
        offset = 0
        while True:
            if self.spilled:
                offset = await self._replay(offset)
                continue
            if not self._memory:
                if self._closing:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            self._inflight = self._memory.popleft()
            await self._write(*self._inflight)
            self._inflight = None

    async def _write(self, seq: int, write: Write) -> None:
        self._write_started = time.monotonic()
        try:
            result = await self.outbox.run_until_done(write, self._failed)
        except Exception as exc:  # refused for good: logged and counted, the next write goes on
            self.errors += 1
            self.last_error = str(exc)
            log.exception("call %s: database write %s failed", self.call_id, write.op)
            self._settle(seq, exc=exc)
        else:
            self.writes += 1
            self._settle(seq, result=result)
        finally:
            self._write_started = None
        self.failing_since = None

    async def _replay(self, offset: int) -> int:
        """Write back the journal from ``offset``; once it is caught up, leave spilled mode."""
        entries, end = await asyncio.to_thread(self.journal.read, offset)
        for seq, write in entries:
            await self._write(seq, write)
        if end == offset and not entries:
            # caught up; nothing is appended between this check and the switch (one event loop)
            await asyncio.to_thread(self.journal.remove)
            self.spilled = False
            log.warning("call %s: journal written back to the database", self.call_id)
            return 0
        return end

    def _settle(self, seq: int, *, result: Any = None, exc: BaseException | None = None) -> None:
        future = self._futures.pop(seq, None)
        if future is None or future.done():
            return
        if exc is not None:
            future.set_exception(exc)
            future.exception()  # a fire-and-forget write: retrieved here, logged above
        else:
            future.set_result(result)

    async def close(self) -> None:
        """Write everything queued. If the database stays unavailable (or a write hangs) for
        ``spill_after_s`` more, return anyway: the waiting writes are in the journal and the writer
        carries on in the background until the database is back (the :class:`Outbox` counts it
        as degraded meanwhile, and :meth:`abandon` keeps it on disk at shutdown)."""
        if self._task is None or self._closing:
            return
        self._closing = True
        self._wakeup.set()
        task = self._task
        deadline = time.monotonic() + self.settings.spill_after_s
        while not task.done():
            await asyncio.wait({task}, timeout=0.25)
            troubled = self._trouble_s() >= self.settings.spill_after_s
            if not task.done() and troubled and time.monotonic() >= deadline:
                if self._memory:
                    self._spill([])
                log.warning("call %s: ended during a database outage; its writes follow", self.call_id)
                task.add_done_callback(self._finished)
                return
        self._finished(task)

    def _finished(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("call %s: storage writer failed: %r", self.call_id, task.exception())
        self.outbox.stores.discard(self)

    async def abandon(self) -> None:
        """Stop the writer (server shutdown), keeping every unwritten write in the journal in
        order, so the next start writes them back."""
        if self._task is None or self._task.done():
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        pending = [*([self._inflight] if self._inflight is not None else []), *self._memory]
        self._memory.clear()
        self._inflight = None
        if pending:
            entries, _ = self.journal.read(0)
            self.journal.remove()
            self.journal.append([*pending, *entries], sync=True)
        for future in self._futures.values():
            future.cancel()
