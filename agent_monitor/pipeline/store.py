"""The database side of a call session: one serial writer task per call, every write in a thread.

Writes of one call run in submission order (an utterance is stored before the hits that point at
it), each in its own short transaction via :func:`asyncio.to_thread`, so the event loop never
waits on the database. :meth:`CallStore.submit` queues a write and returns at once (its future
carries the result); ``await store.call(...)`` waits for it (used where the row id is needed,
e.g. an alert). A failed write is logged with its traceback, counted in ``errors`` and raised to
whoever awaits it; the session carries on with the next write.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from agent_monitor.errors import PipelineError
from agent_monitor.storage import Database

T = TypeVar("T")
log = logging.getLogger(__name__)


class CallStore:
    """Serial, threaded database writes for one call."""

    def __init__(self, db: Database, call_id: str) -> None:
        self.db = db
        self.call_id = call_id
        self._queue: asyncio.Queue[tuple[Callable[[Session], Any], asyncio.Future[Any]] | None] = (
            asyncio.Queue()
        )
        self._task: asyncio.Task[None] | None = None
        self.errors = 0
        self.writes = 0
        self.last_error: str | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"store:{self.call_id}")

    def submit(self, fn: Callable[[Session], T]) -> asyncio.Future[T]:
        """Queue ``fn(session)`` (run in a thread, in its own transaction)."""
        if self._task is None:
            raise PipelineError(f"call {self.call_id}: storage writer is not running")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((fn, future))
        return future

    async def call(self, fn: Callable[[Session], T]) -> T:
        """Queue ``fn(session)`` and wait for its result."""
        return await self.submit(fn)

    async def now(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn(session)`` in a thread at once, outside the queue (reads, or before ``start``)."""
        return await asyncio.to_thread(self._transaction, fn)

    def _transaction(self, fn: Callable[[Session], T]) -> T:
        with self.db.session() as session:
            return fn(session)

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            if item is None:
                return
            fn, future = item
            try:
                result = await asyncio.to_thread(self._transaction, fn)
            except Exception as exc:  # reported to the awaiting caller and logged, never lost
                self.errors += 1
                self.last_error = str(exc)
                log.exception("call %s: database write failed", self.call_id)
                if not future.done():
                    future.set_exception(exc)
                    # nobody may await a fire-and-forget write: mark it retrieved, it is logged above
                    future.exception()
                continue
            self.writes += 1
            if not future.done():
                future.set_result(result)

    async def close(self) -> None:
        """Finish every queued write, then stop the writer."""
        if self._task is None:
            return
        self._queue.put_nowait(None)
        await self._task
        self._task = None
