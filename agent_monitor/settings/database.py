"""Settings of the connections one process keeps to the database (README: "Database connections")."""

from __future__ import annotations

import os

from pydantic import Field

from agent_monitor.settings.base import Section

__all__ = ["DatabaseSettings", "default_executor_threads"]


def default_executor_threads() -> int:
    """The threads of asyncio's default executor (``asyncio.to_thread``: web requests' database
    work, the floor's keeper, the escalation timer), as Python 3.11 sizes it."""
    return min(32, (os.cpu_count() or 1) + 4)


class DatabaseSettings(Section):
    """``AGENT_MONITOR_DATABASE__*``: one process's pool of database connections (the URL itself is
    ``database_url``). A process opens at most ``pool_size`` plus the overflow connections
    (:meth:`overflow`); a floor of N nodes needs N times that (and a few for commands) within
    PostgreSQL's ``max_connections``: each node states both at its start."""

    #: connections kept open once made
    pool_size: int = Field(5, ge=1, le=1000)
    #: connections opened beyond ``pool_size`` while that many are busy, closed once returned;
    #: ``None``: as many as every thread that uses the database needs (:meth:`overflow`)
    max_overflow: int | None = Field(None, ge=0, le=1000)
    #: how long a request or a write waits for a free connection when all are busy; a web request
    #: then gets 503 ("the database is not available right now"), a call start is refused (try
    #: again later) and a live call's writes retry, or go to its journal (``live.outbox``)
    pool_timeout_s: float = Field(10.0, gt=0.0, le=300.0)

    def overflow(self, writer_threads: int) -> int:
        """``max_overflow``, or by default enough for one connection per thread that may use the
        database at once: the default executor's (:func:`default_executor_threads`) and the live
        writes' ``writer_threads``; so a burst of web requests never leaves a call's writes
        waiting for a connection (they wait for a thread instead, each kind on its own)."""
        if self.max_overflow is not None:
            return self.max_overflow
        return max(0, default_executor_threads() + writer_threads - self.pool_size)

    def max_connections(self, writer_threads: int) -> int:
        """The most connections one process opens."""
        return self.pool_size + self.overflow(writer_threads)
