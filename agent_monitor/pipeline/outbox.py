"""The process-wide side of the write outbox (:mod:`agent_monitor.pipeline.store` has the policy):
threads, the journal folder, health, transactions of batches with retries while the database is
unavailable, and the write-back of journals left by an earlier run."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from agent_monitor.errors import DatabaseUnavailableError
from agent_monitor.pipeline.journal import Journal
from agent_monitor.pipeline.metrics import NO_METRICS, PipelineMetrics
from agent_monitor.pipeline.records import Write, run_write
from agent_monitor.settings import OutboxSettings
from agent_monitor.storage import Database


class CallWriter(Protocol):
    """What the outbox sees of a call's store (:class:`agent_monitor.pipeline.store.CallStore`)."""

    journal: Journal
    spilled: bool
    failing_since: float | None

    @property
    def degraded(self) -> bool: ...

    @property
    def queued(self) -> int: ...

    async def abandon(self) -> None: ...


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
        self.stores: set[CallWriter] = set()
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

    async def run(self, writes: Sequence[Write]) -> list[Any]:
        """Run ``writes`` in order in one transaction; their results."""
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        try:
            return await loop.run_in_executor(
                self.executor, self.transaction, lambda s: [run_write(s, w) for w in writes]
            )
        finally:
            self.metrics.db_write(time.perf_counter() - started)

    async def run_until_done(
        self, writes: Sequence[Write], on_failure: Callable[[BaseException], None]
    ) -> list[Any]:
        """Run ``writes`` (one transaction), retrying while the database is unavailable; other
        errors are raised."""
        delay = self.settings.retry_first_s
        while True:
            try:
                return await self.run(writes)
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
            await outbox.run_until_done([write], lambda exc: None)
        except Exception:
            log.exception("%s: entry %d (%s) refused by the database; skipped", journal.path, seq, write.op)
    await asyncio.to_thread(journal.remove)
    log.warning("outbox journal %s written back to the database (%d writes)", journal.path, len(entries))
