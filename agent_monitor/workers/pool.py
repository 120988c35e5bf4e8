"""Speech recognition in N worker processes: :class:`WorkerPool` (``server.workers``).

The pool is the front process's :class:`~agent_monitor.model.stages.TranscriberFactory`: each
leg's :class:`~agent_monitor.workers.remote.RemoteTranscriber` runs in the worker with the fewest
live legs. Each worker loads its own Vosk models (the model files are memory-mapped or read once
into each process; the page cache holds one copy of the files) and keeps its own spare
recognizers: ``asr.spare_recognizers`` in all, split over the workers. The pool is also the
front's :class:`~agent_monitor.model.stages.Runner` (``asr.threads`` threads for the rules and the
stress tracker, which stay in the front).

A worker that dies is logged, its legs' requests in flight fail (see :mod:`.remote`: they go on
in another worker from their next audio), and a new worker is started in its place (again and
again, waiting longer each time, while starting fails). :meth:`close` stops every worker and waits
for it, so no child process outlives the pool.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from agent_monitor.errors import AgentMonitorError, ModelError, SpeechWorkerError
from agent_monitor.lanes import LaneExecutor, LaneStats
from agent_monitor.model.audio import Leg
from agent_monitor.model.stages import MissingModel
from agent_monitor.settings import Settings
from agent_monitor.workers.process import WorkerProcess
from agent_monitor.workers.remote import RemoteTranscriber

T = TypeVar("T")
log = logging.getLogger(__name__)

#: waits between attempts to start a replacement worker (seconds; the last one repeats)
RESTART_BACKOFF_S = (0.0, 1.0, 5.0, 30.0)


def worker_processes(settings: Settings, cores: int | None = None) -> int:
    """The number of speech worker processes ``server.workers`` asks for on a machine of
    ``cores`` cores (default: this one's). ``auto``: none up to 2 cores (measured on 2 cores:
    threads in one process cost less CPU per call than worker processes, see README), otherwise
    one per core but one, which the front (ingest, rules, stress, storage, web) keeps."""
    workers = settings.server.workers
    if workers != "auto":
        return workers
    cores = cores or os.cpu_count() or 1
    return 0 if cores <= 2 else cores - 1


def worker_settings(settings: Settings, workers: int) -> Settings:
    """The settings of each of ``workers`` processes: a share of the threads and of the spares."""
    cores = os.cpu_count() or 1
    asr = settings.asr.model_copy(
        update={
            "threads": settings.asr.threads or max(2, math.ceil(cores / workers)),
            "spare_recognizers": math.ceil(settings.asr.spare_recognizers / workers),
        }
    )
    return settings.model_copy(update={"asr": asr})


class WorkerPool:
    """The speech worker processes, the leg placement and the front's threads."""

    def __init__(self, settings: Settings, workers: Sequence[WorkerProcess]) -> None:
        self.settings = settings
        self._worker_settings = worker_settings(settings, len(workers))
        self._workers = list(workers)
        self._ready = self._workers[0].ready
        self._keys = itertools.count()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._restarting: list[threading.Thread] = []
        self._executor = LaneExecutor(settings.asr.threads or os.cpu_count() or 1, "stage")
        #: workers started in place of dead ones
        self.restarts = 0
        for worker in self._workers:
            worker.on_death = self._on_death

    @classmethod
    def start(cls, settings: Settings, workers: int) -> WorkerPool:
        """Start ``workers`` processes at once and wait for all (blocking: the model load)."""
        each = worker_settings(settings, workers)
        with ThreadPoolExecutor(workers) as starting:
            futures = [starting.submit(WorkerProcess.start, i, each) for i in range(workers)]
        started = [f.result() for f in futures if f.exception() is None]
        failed = [f.exception() for f in futures if f.exception() is not None]
        if failed:
            for worker in started:
                worker.close()
            raise failed[0]  # type: ignore[misc]
        return cls(settings, started)

    @property
    def workers(self) -> list[WorkerProcess]:
        """The current worker of each slot (a replacement once one died)."""
        with self._lock:
            return list(self._workers)

    def can_transcribe(self, lang: str) -> bool:
        return lang in self._ready.languages

    def missing_model(self, lang: str) -> MissingModel:
        return self._ready.missing.get(lang) or MissingModel(lang, "", f"no model configured for {lang}")

    async def transcriber(
        self, lang: str, leg: Leg, *, t0: float, first_utterance: int, keywords: Sequence[str]
    ) -> RemoteTranscriber:
        """A leg's transcriber, opened on the least-loaded worker (or, when none is running now,
        on the first one running when its audio comes)."""
        if not self.can_transcribe(lang):
            missing = self.missing_model(lang)
            raise ModelError(f"{missing.message} ({missing.reason})")
        transcriber = RemoteTranscriber(
            self._place,
            lang,
            leg,
            t0=t0,
            first_utterance=first_utterance,
            keywords=keywords,
            sample_rate=self.settings.asr.sample_rate,
        )
        try:
            await transcriber.open()
        except SpeechWorkerError as exc:
            log.warning("%s leg: %s (opened again with its first audio)", leg, exc)
        return transcriber

    def _place(self) -> tuple[WorkerProcess, int] | None:
        """The live worker with the fewest live legs (the first such), and a new leg key."""
        with self._lock:
            live = [w for w in self._workers if w.alive]
            if not live:
                return None
            return min(live, key=lambda w: w.legs), next(self._keys)

    async def prewarm(self) -> None:
        """Nothing to do: each worker builds its spares before it reports ready."""

    def describe(self) -> str:
        return f"{self._ready.description} (in {len(self._workers)} speech worker processes)"

    def to_dict(self) -> dict[str, Any]:
        return dict(self._ready.summary)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Blocking front work (rules) on the front's threads, in the urgent lane."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def run_deferred(self, fn: Callable[..., T], *args: Any) -> T:
        """Blocking front work (stress) when no urgent job waits."""
        return await asyncio.wrap_future(self._executor.submit_deferred(fn, *args))

    def lane_stats(self) -> tuple[LaneStats, ...]:
        return self._executor.stats()

    def _on_death(self, worker: WorkerProcess) -> None:
        """From the dead worker's reader thread: log it, start a replacement in another thread."""
        log.error("%s; its legs go on in the other workers, a new worker is starting", worker.death)
        name = f"worker{worker.index}-restart"
        thread = threading.Thread(target=self._restart, args=(worker.index,), name=name)
        with self._lock:
            if self._closing.is_set():
                return
            self._restarting.append(thread)
        thread.start()

    def _restart(self, index: int) -> None:
        for attempt in itertools.count():
            wait = RESTART_BACKOFF_S[min(attempt, len(RESTART_BACKOFF_S) - 1)]
            if self._closing.wait(wait):
                return
            try:
                worker = WorkerProcess.start(index, self._worker_settings, cancelled=self._closing)
            except AgentMonitorError as exc:
                if self._closing.is_set():
                    return
                log.error("speech worker %d could not be restarted: %s", index, exc)
                continue
            worker.on_death = self._on_death
            with self._lock:
                if not self._closing.is_set():
                    self._workers[index] = worker
                    self.restarts += 1
                    log.warning("speech worker %d restarted (pid %d)", index, worker.pid)
                    return
            worker.close()
            return

    def close(self) -> None:
        """Stop every worker (and any being restarted) and the front's threads (blocking)."""
        with self._lock:
            self._closing.set()
            restarting = list(self._restarting)
        for thread in restarting:
            thread.join()
        for worker in self.workers:
            worker.close()
        self._executor.shutdown(wait=True, cancel_futures=True)
