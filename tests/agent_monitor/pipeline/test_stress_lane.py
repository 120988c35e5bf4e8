"""The debtor's stress runs on the deferred lane, in order, without holding up recognition."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from agent_monitor.lanes import LaneExecutor, LaneStats
from agent_monitor.model.audio import Leg
from agent_monitor.model.stress import BaselineStatus, StressEvent, StressLevel, StressSample
from agent_monitor.model.transcript import Word
from agent_monitor.pipeline.stress_lane import StressLane

T = TypeVar("T")
RATE = 16000


class Threads:
    """A Runner on a real :class:`LaneExecutor` (one thread, so the order is observable)."""

    def __init__(self) -> None:
        self.executor = LaneExecutor(1)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def run_deferred(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.wrap_future(self.executor.submit_deferred(fn, *args))

    def lane_stats(self) -> tuple[LaneStats, ...]:
        return self.executor.stats()


class RecordingScorer:
    """A stress scorer that records what it was given, in which thread, and blocks on ``gate``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.threads: set[str] = set()

    def push_pcm(self, pcm: bytes) -> list[StressSample]:
        self.gate.wait(5)
        self.threads.add(threading.current_thread().name)
        self.calls.append(("pcm", len(pcm)))
        return [StressSample(len(self.calls), 50.0, StressLevel.NONE, BaselineStatus.ABSOLUTE)]

    def add_words(self, words: Iterable[Word], until: float | None = None) -> None:
        self.calls.append(("words", until))

    def finish(self) -> list[StressSample]:
        self.calls.append(("finish", None))
        return []

    def drain_events(self) -> list[StressEvent]:
        return []


class Sink:
    def __init__(self) -> None:
        self.samples: list[StressSample] = []

    async def on_stress(self, leg: Leg, samples: list[StressSample], events: list[StressEvent]) -> None:
        self.samples += samples


def test_audio_and_words_reach_the_scorer_in_order_and_batches_queued_meanwhile_join() -> None:
    async def main() -> tuple[RecordingScorer, Sink]:
        runner, scorer, sink = Threads(), RecordingScorer(), Sink()
        lane = StressLane(Leg.DEBTOR, scorer, runner, sink, sample_rate=RATE, max_backlog_s=5.0)
        scorer.gate.clear()
        await lane.push(b"\x00\x00" * 1600)  # taken at once; the scorer blocks on it
        await asyncio.sleep(0.05)
        await lane.push(b"\x00\x00" * 1600)
        await lane.push(b"\x00\x00" * 800)  # both wait behind the first: scored in one job
        lane.add_words([Word(text="no", start=0.1, end=0.3)], until=0.3)
        await lane.push(b"\x00\x00" * 400)
        scorer.gate.set()
        await lane.finish()
        runner.executor.shutdown()
        return scorer, sink

    scorer, sink = asyncio.run(main())
    assert scorer.calls == [("pcm", 3200), ("pcm", 4800), ("words", 0.3), ("pcm", 800), ("finish", None)]
    assert [s.t for s in sink.samples] == [1, 2, 4]
    assert all(name.startswith("lane_") for name in scorer.threads)


def test_recognition_jobs_go_first_and_a_full_backlog_makes_the_leg_wait() -> None:
    async def main() -> tuple[list[str], bool]:
        runner, scorer, sink = Threads(), RecordingScorer(), Sink()
        lane = StressLane(Leg.DEBTOR, scorer, runner, sink, sample_rate=RATE, max_backlog_s=0.2)
        order: list[str] = []
        gate = threading.Event()
        busy = asyncio.ensure_future(runner.run(gate.wait, 5))  # the one thread is busy
        await asyncio.sleep(0.02)
        await lane.push(b"\x00\x00" * 1600)  # 0.1 s: room left
        await asyncio.sleep(0.02)
        recognised = asyncio.ensure_future(runner.run(order.append, "recognition"))
        blocked = asyncio.ensure_future(lane.push(b"\x00\x00" * 3200))  # over 0.2 s queued: waits
        await asyncio.sleep(0.05)
        waited = not blocked.done()
        gate.set()
        await asyncio.gather(busy, recognised, blocked)
        order.append(f"stress after {len(scorer.calls)} scorer calls")
        await lane.finish()
        runner.executor.shutdown()
        return order, waited

    order, waited = asyncio.run(main())
    assert waited
    assert order[0] == "recognition"
