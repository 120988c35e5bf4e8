"""Event-loop lag: how late a periodic timer fires (a blocked loop delays every websocket).

:class:`LoopLagMonitor` sleeps ``interval_s`` in a loop and records how much later than asked
it woke up; ``GET /api/metrics`` reports the distribution since the last reset, and each sample
also goes to ``on_sample`` when set (the Prometheus histogram, :mod:`web.metrics`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import numpy as np


class LoopLagMonitor:
    def __init__(self, interval_s: float = 0.1, max_samples: int = 100_000) -> None:
        self.interval_s = interval_s
        self.max_samples = max_samples
        self._samples: list[float] = []
        self._task: asyncio.Task[None] | None = None
        #: called with each lag sample (seconds)
        self.on_sample: Callable[[float], None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self.interval_s)
            late = max(0.0, time.perf_counter() - before - self.interval_s)
            if self.on_sample is not None:
                self.on_sample(late)
            if len(self._samples) < self.max_samples:
                self._samples.append(late)

    def summary(self, reset: bool = False) -> dict[str, float | int]:
        """Lag in milliseconds since the last reset: p50, p95, p99, max, and the sample count."""
        samples = np.asarray(self._samples) * 1000.0
        if reset:
            self._samples = []
        if samples.size == 0:
            return {"samples": 0}
        p50, p95, p99 = np.percentile(samples, [50, 95, 99])
        return {
            "samples": int(samples.size),
            "p50_ms": float(p50),
            "p95_ms": float(p95),
            "p99_ms": float(p99),
            "max_ms": float(samples.max()),
        }
