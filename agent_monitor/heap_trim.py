"""Hand the heap memory freed by finished calls back to the operating system when a process idles.

A call's recognizers, decoder buffers, transcripts and events are freed when it ends, but glibc
keeps freed memory in its arenas (one per thread that allocated) for the next allocation: a server
that carried a burst of calls stays that large after every call has ended. ``malloc_trim(0)``
returns every free page of every arena to the kernel. :class:`HeapTrimmer` runs it in a worker
thread (it takes each arena's lock in turn) when the process has just gone idle (its last live
call, or last leg in a speech worker, ended), at most once per ``min_interval_s``.

Measured (``benchmarks/bench_live.py --parts peer``'s sequence: a fresh server, the 16-call warm-up
and one SpokenWOZ call; 2-core VM): 606 MiB resident after the traffic, 490 MiB after the trim.
Only glibc has ``malloc_trim``; elsewhere the trimmer does nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or ``None`` where the C library has none."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        fn = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_size_t]
    fn.restype = ctypes.c_int
    return fn


class HeapTrimmer:
    """Trims the heap when told the process is idle (see the module documentation)."""

    def __init__(
        self,
        enabled: bool = True,
        min_interval_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._trim = _malloc_trim() if enabled else None
        self.min_interval_s = min_interval_s
        self._clock = clock
        self._last: float | None = None
        self._running: asyncio.Future[None] | None = None
        #: trims done (for the logs and tests)
        self.trims = 0

    @property
    def available(self) -> bool:
        return self._trim is not None

    def idle(self) -> asyncio.Future[None] | None:
        """The process just went idle: start a trim in a worker thread (unless one runs, one ran
        less than ``min_interval_s`` ago, or there is no ``malloc_trim``); returns its future."""
        if self._trim is None or (self._running is not None and not self._running.done()):
            return None
        now = self._clock()
        if self._last is not None and now - self._last < self.min_interval_s:
            return None
        self._last = now
        self._running = asyncio.get_running_loop().run_in_executor(None, self._run)
        return self._running

    def _run(self) -> None:
        assert self._trim is not None
        started = time.perf_counter()
        self._trim(0)
        self.trims += 1
        log.debug("heap trimmed in %.1f ms", (time.perf_counter() - started) * 1e3)
