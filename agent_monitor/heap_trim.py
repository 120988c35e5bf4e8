"""Hand the heap memory freed by finished calls back to the operating system when a process idles.

A call's recognizers, decoder buffers, transcripts and events are freed when it ends, but glibc
keeps freed memory in its arenas (one per thread that allocated) for the next allocation: a server
that carried a burst of calls stays that large after every call has ended. ``malloc_trim(0)``
returns every free page of every arena to the kernel. :class:`HeapTrimmer` runs it in a worker
thread (it takes each arena's lock in turn) once the process has stayed idle (no live call, or no
open leg in a speech worker) for ``delay_s``; work that starts before then cancels it.

Why wait: the trim punches 4 KiB holes into the heap's transparent huge pages
(:mod:`agent_monitor.allocator`), and the next calls' memory comes back in small pages until the
kernel collapses them again. Measured (``benchmarks/bench_live.py --parts peer``: a fresh server,
the 16-call warm-up, then one SpokenWOZ call; 2-core VM, two runs each): trimmed right after the
warm-up, the call cost 0.085 and 0.076 CPU-s per leg-second against 0.078 and 0.066 untrimmed,
and the server was idle at 486-507 MiB against 615-638 MiB. A process that idles briefly between
calls keeps its memory; one left idle (a quiet hour, a night) gives it back.
Under jemalloc (:mod:`agent_monitor.allocator`, preloaded) the same is jemalloc's purge of every
arena (``mallctl("arena.<all>.purge")``); with neither allocator the trimmer does nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools
import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


#: jemalloc's index for "every arena" in ``mallctl`` names (``MALLCTL_ARENAS_ALL``)
_ALL_ARENAS = 4096


@functools.cache
def _release_heap() -> Callable[[], object] | None:
    """What hands freed heap back: jemalloc's purge of every arena where jemalloc is the process's
    allocator, else glibc's ``malloc_trim(0)``; ``None`` where neither exists (looked up once:
    finding the C library runs ``ldconfig``)."""
    try:
        mallctl = ctypes.CDLL(None).mallctl  # only a preloaded jemalloc defines it
    except AttributeError:
        pass
    else:
        void = ctypes.c_void_p
        mallctl.argtypes = [ctypes.c_char_p, void, void, void, ctypes.c_size_t]
        mallctl.restype = ctypes.c_int
        name = f"arena.{_ALL_ARENAS}.purge".encode()
        return lambda: mallctl(name, None, None, None, 0)
    libc = ctypes.util.find_library("c")
    if libc is None:
        return None
    try:
        trim = ctypes.CDLL(libc).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return lambda: trim(0)


class HeapTrimmer:
    """Trims the heap after ``delay_s`` of idleness (see the module documentation); ``delay_s``
    ``None``: never."""

    def __init__(self, delay_s: float | None = 30.0) -> None:
        self._trim = _release_heap() if delay_s is not None else None
        self.delay_s = delay_s or 0.0
        self._pending: asyncio.TimerHandle | None = None
        self._running: asyncio.Future[None] | None = None
        #: trims done (for the logs and tests)
        self.trims = 0

    @property
    def available(self) -> bool:
        return self._trim is not None

    @property
    def pending(self) -> bool:
        """A trim is scheduled and has not started."""
        return self._pending is not None

    def idle(self) -> None:
        """The process just went idle: trim after ``delay_s`` unless :meth:`busy` comes first."""
        if self._trim is None:
            return
        self.busy()
        self._pending = asyncio.get_running_loop().call_later(self.delay_s, self._start)

    def busy(self) -> None:
        """Work started: the scheduled trim, if any, is cancelled."""
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None

    def _start(self) -> None:
        self._pending = None
        if self._running is not None and not self._running.done():
            return
        self._running = asyncio.get_running_loop().run_in_executor(None, self._run)

    def _run(self) -> None:
        assert self._trim is not None
        started = time.perf_counter()
        self._trim()
        self.trims += 1
        log.debug("heap trimmed in %.1f ms", (time.perf_counter() - started) * 1e3)
