"""The outbox between the live calls and the database: writes never hold up detection.

A call session publishes its events on the bus first and hands the rows to its :class:`CallStore`
(:meth:`CallStore.submit` returns at once, never raises for a slow or absent database). Each
call's writes run in submission order (an utterance before the hits that point at it), in the
:class:`Outbox`'s own threads (so a stalled database cannot starve other work of threads).

**Batches.** A call's writes are gathered for up to ``batch_linger_s`` (at most ``batch_max``)
and written in one short transaction: one session, one commit, one evidence seal and one move of
each hash chain's head for all of them, instead of one each. An *urgent* write (an alert, whose
``alert_id`` the live alert waits for, and the start-up writes a caller awaits) ends the wait at
once, taking the writes queued before it along. A batch the database refuses for good (a bug, a
constraint; not an outage) is written again one write per transaction, so that only the refused
write is skipped.

**Policy.** Nothing is dropped: transcripts, rule hits, alerts, stress, recordings, call ends.

- A write that fails because the database is unavailable (connection refused or lost, locked,
  timed out: :data:`agent_monitor.pipeline.outbox.TRANSIENT`) is retried with back-off
  (``retry_first_s`` doubling to ``retry_max_s``) until it succeeds; the writes after it wait
  behind it in memory.
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
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from agent_monitor.errors import PipelineError, StorageError
from agent_monitor.pipeline.journal import Journal, journal_path
from agent_monitor.pipeline.outbox import Outbox
from agent_monitor.pipeline.records import Write

T = TypeVar("T")
log = logging.getLogger(__name__)


class CallStore:
    """The ordered, never-blocking writes of one call (see the module documentation)."""

    def __init__(self, outbox: Outbox, call_id: str, instance: str = "") -> None:
        self.outbox = outbox
        self.db = outbox.db
        self.call_id = call_id
        #: the process whose writes these are (its :class:`~agent_monitor.model.session.Holder`
        #: instance): the call's end is written only while it holds the call (none: always)
        self.instance = instance
        self.settings = outbox.settings
        self.journal = Journal(journal_path(outbox.journal_dir, call_id))
        self._memory: deque[tuple[int, Write]] = deque()
        self._futures: dict[int, asyncio.Future[Any]] = {}
        self._seq = 0
        self._wakeup = asyncio.Event()
        #: set when the gathering of a batch should end now (an urgent write, a full batch, close)
        self._flush = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        #: writes go to the journal (it holds writes older than anything in memory)
        self.spilled = self.journal.exists()
        #: monotonic time the database started failing for this call (None: it works)
        self.failing_since: float | None = None
        #: monotonic start of the write in progress
        self._write_started: float | None = None
        #: the writes in progress when they came from memory (not yet in the journal)
        self._inflight: list[tuple[int, Write]] = []
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
    def settled(self) -> bool:
        """No write of this store waits any more (never started, or its writer has finished)."""
        return self._task is None or self._task.done()

    @property
    def degraded(self) -> bool:
        trouble = self._trouble_s() >= self.settings.stall_after_s
        return self.spilled or self.failing_since is not None or trouble

    # --- submitting ---------------------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None:
            self.outbox.stores.add(self)
            self._task = asyncio.create_task(self._run(), name=f"store:{self.call_id}")

    def submit(self, write: Write, *, urgent: bool = False) -> asyncio.Future[Any]:
        """Queue ``write``; returns at once. Its future resolves when the row is written.
        ``urgent``: someone waits for it; written now, not at the end of a batch's gathering."""
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
        if urgent or len(self._memory) >= self.settings.batch_max:
            self._flush.set()
        return future

    async def call(self, write: Write) -> Any:
        """Queue ``write`` and wait until it is written (start-up only: waits out an outage)."""
        return await self.submit(write, urgent=True)

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
            await self._gather()
            if self.spilled or not self._memory:  # spilled meanwhile: the journal has them
                continue
            count = min(len(self._memory), self.settings.batch_max)
            self._inflight = [self._memory.popleft() for _ in range(count)]
            await self._write_batch(self._inflight)
            self._inflight = []

    async def _gather(self) -> None:
        """Let more writes join the batch: until ``batch_linger_s`` has passed, an urgent write
        or a full batch arrives, or the call closes."""
        linger = self.settings.batch_linger_s
        if linger <= 0 or self._closing or len(self._memory) >= self.settings.batch_max:
            return
        with contextlib.suppress(TimeoutError):  # returns at once when already set
            await asyncio.wait_for(self._flush.wait(), linger)
        self._flush.clear()

    async def _write_batch(self, batch: list[tuple[int, Write]]) -> None:
        """Write ``batch`` in one transaction; refused for good: again one write at a time."""
        if len(batch) == 1:
            await self._write(*batch[0])
            return
        self._write_started = time.monotonic()
        try:
            results = await self.outbox.run_until_done([w for _, w in batch], self._failed)
        except Exception as exc:  # a bug or a constraint in one of them: find it, write the rest
            log.warning(
                "call %s: a batch of %d writes was refused (%s); writing them one by one",
                self.call_id,
                len(batch),
                exc,
            )
            for seq, write in batch:
                await self._write(seq, write)
            return
        finally:
            self._write_started = None
        self.failing_since = None
        self.writes += len(batch)
        for (seq, _), result in zip(batch, results, strict=True):
            self._settle(seq, result=result)

    async def _write(self, seq: int, write: Write) -> None:
        self._write_started = time.monotonic()
        try:
            [result] = await self.outbox.run_until_done([write], self._failed)
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
        self._flush.set()
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
        pending = [*self._inflight, *self._memory]
        self._memory.clear()
        self._inflight = []
        if pending:
            entries, _ = self.journal.read(0)
            self.journal.remove()
            self.journal.append([*pending, *entries], sync=True)
        for future in self._futures.values():
            future.cancel()
