"""The process's worker threads for blocking work, with two lanes: urgent and deferred.

Every blocking call of the live path (Vosk, rules, stress numpy) runs on these threads. Jobs
that hold up a leg's recognition or an alert (:meth:`LaneExecutor.submit`: Vosk, rules) go
first; jobs whose result may come later (:meth:`LaneExecutor.submit_deferred`: debtor stress)
run when no urgent job is waiting, or once the oldest of them has waited ``promote_after_s``
(1 s: deferred work is never starved, and its results come in small steps, not in bursts).
With one first-come-first-served queue, a moment of more work than the cores (a few legs
settling their utterances at once) delays every leg's recognition by the stress jobs queued in
front of it; with lanes the deferred work waits (up to that limit) and catches up in a lull.

Each lane counts its jobs, the seconds they waited in the queue (wall), ran (wall) and used
(thread CPU): :meth:`LaneExecutor.stats`. A job that runs much longer than its CPU time waited
for the GIL or for a core.

``LaneExecutor`` is a :class:`concurrent.futures.Executor`, so ``loop.run_in_executor`` uses the
urgent lane.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

URGENT, DEFERRED = 0, 1
LANES = ("urgent", "deferred")


@dataclass(frozen=True, slots=True)
class LaneStats:
    """What one lane's jobs cost since the executor started (seconds)."""

    lane: str
    jobs: int = 0
    waited_s: float = 0.0
    max_wait_s: float = 0.0
    ran_s: float = 0.0
    cpu_s: float = 0.0
    queued: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "jobs": self.jobs,
            "waited_s": round(self.waited_s, 3),
            "mean_wait_ms": round(self.waited_s / self.jobs * 1000, 2) if self.jobs else 0.0,
            "max_wait_ms": round(self.max_wait_s * 1000, 1),
            "cpu_s": round(self.cpu_s, 3),
            "ran_s": round(self.ran_s, 3),
            "queued": self.queued,
        }


@dataclass(slots=True)
class _Job:
    future: Future[Any]
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    queued_at: float


class _Counts:
    """A lane's running sums (updated under the executor's lock)."""

    __slots__ = ("cpu", "jobs", "max_wait", "ran", "waited")

    def __init__(self) -> None:
        self.jobs, self.waited, self.max_wait, self.ran, self.cpu = 0, 0.0, 0.0, 0.0, 0.0


class LaneExecutor(Executor):
    """``threads`` worker threads serving the urgent lane first, then the deferred lane, each in
    the order submitted."""

    def __init__(self, threads: int, name: str = "lane", promote_after_s: float = 1.0) -> None:
        self._queues: tuple[deque[_Job], deque[_Job]] = (deque(), deque())
        self.promote_after_s = promote_after_s
        self._cv = threading.Condition()
        self._closed = False
        self._counts = [_Counts(), _Counts()]
        self._queued = [0, 0]
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}_{i}", daemon=True)
            for i in range(max(1, threads))
        ]
        for t in self._threads:
            t.start()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Urgent work (``kwargs`` are passed on to ``fn``)."""
        return self._put(URGENT, functools.partial(fn, **kwargs) if kwargs else fn, args)

    def submit_deferred(self, fn: Callable[..., T], /, *args: Any) -> Future[T]:
        """Work that runs when no urgent job is waiting, or once it has waited ``promote_after_s``."""
        return self._put(DEFERRED, fn, args)

    def _put(self, lane: int, fn: Callable[..., T], args: tuple[Any, ...]) -> Future[T]:
        future: Future[T] = Future()
        job = _Job(future, fn, args, time.monotonic())
        with self._cv:
            if self._closed:
                raise RuntimeError("cannot schedule new work after shutdown")
            self._queues[lane].append(job)
            self._queued[lane] += 1
            self._cv.notify()
        return future

    def _work(self) -> None:
        while True:
            with self._cv:
                while not any(self._queues) and not self._closed:
                    self._cv.wait()
                if not any(self._queues):
                    return
                lane = self._next_lane()
                job = self._queues[lane].popleft()
                self._queued[lane] -= 1
            if job.future.set_running_or_notify_cancel():
                self._run(lane, job)

    def _next_lane(self) -> int:
        """Urgent first, unless the oldest deferred job has waited ``promote_after_s`` (so deferred
        work is late by about that much at worst, and never starves)."""
        urgent, deferred = self._queues
        if not urgent:
            return DEFERRED
        if deferred and time.monotonic() - deferred[0].queued_at >= self.promote_after_s:
            return DEFERRED
        return URGENT

    def _run(self, lane: int, job: _Job) -> None:
        started, cpu0 = time.monotonic(), time.thread_time()
        try:
            result = job.fn(*job.args)
        except BaseException as exc:  # handed to the waiting caller, as ThreadPoolExecutor does
            job.future.set_exception(exc)
        else:
            job.future.set_result(result)
        ended, cpu = time.monotonic(), time.thread_time() - cpu0
        with self._cv:
            c = self._counts[lane]
            wait = started - job.queued_at
            c.jobs += 1
            c.waited += wait
            c.max_wait = max(c.max_wait, wait)
            c.ran += ended - started
            c.cpu += cpu

    def stats(self) -> tuple[LaneStats, ...]:
        with self._cv:
            return tuple(
                LaneStats(name, c.jobs, c.waited, c.max_wait, c.ran, c.cpu, self._queued[i])
                for i, (name, c) in enumerate(zip(LANES, self._counts, strict=True))
            )

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._cv:
            self._closed = True
            if cancel_futures:
                for queue in self._queues:
                    for job in queue:
                        job.future.cancel()
                    queue.clear()
                self._queued = [0, 0]
            self._cv.notify_all()
        if wait:
            for t in self._threads:
                if t is not threading.current_thread():
                    t.join()
