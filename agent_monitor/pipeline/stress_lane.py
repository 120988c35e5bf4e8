"""A scored leg's stress tracking, off the path of its recognition.

The leg worker used to run each batch's stress step next to its recognition and wait for both
before taking the next batch, so a stress job queued behind other legs' work held up that leg's
transcripts, and at a moment of more work than cores every leg's recognition waited behind the
stress jobs in the one queue. Now the worker hands each batch (and each final's words, for the
speaking rate) to a :class:`StressLane`, one task per scored leg, which runs the scorer in order
on the runner's *deferred* lane (:meth:`~agent_monitor.model.stages.Runner.run_deferred`: only
when no recognition or rules job waits) and delivers samples and level changes to the sink.

The lane holds at most ``max_backlog_s`` seconds of audio: beyond that :meth:`StressLane.push`
waits for room, so the leg's recognition slows down with it (as before) instead of memory growing
or stress audio being dropped. Audio queued while a job runs is scored in one job.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence
from typing import Protocol

from agent_monitor.errors import AgentMonitorError
from agent_monitor.model.audio import BYTES_PER_SAMPLE, Leg
from agent_monitor.model.stages import Runner, StressScorer
from agent_monitor.model.stress import StressEvent, StressSample
from agent_monitor.model.transcript import Word

log = logging.getLogger(__name__)


class StressSink(Protocol):
    async def on_stress(self, leg: Leg, samples: list[StressSample], events: list[StressEvent]) -> None: ...


Scored = tuple[list[StressSample], list[StressEvent]]
_Words = tuple[Sequence[Word], float]


class StressLane:
    """One scored leg's stress steps, in order, on the deferred lane (module documentation)."""

    def __init__(
        self,
        leg: Leg,
        scorer: StressScorer,
        runner: Runner,
        sink: StressSink,
        *,
        sample_rate: int,
        max_backlog_s: float,
    ) -> None:
        self.leg = leg
        self.scorer = scorer
        self.runner = runner
        self.sink = sink
        self.max_backlog = max(1, int(max_backlog_s * sample_rate)) * BYTES_PER_SAMPLE
        self._ops: deque[bytes | _Words] = deque()
        self._backlog = 0  # bytes of audio queued
        self._wakeup = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._finishing = False
        self._task: asyncio.Task[None] | None = None
        self.errors = 0

    async def push(self, pcm: bytes) -> None:
        """Queue a batch of the leg's audio (waits only while the backlog is full)."""
        if not pcm:
            return
        self._start()
        self._ops.append(pcm)
        self._backlog += len(pcm)
        self._wakeup.set()
        while self._backlog > self.max_backlog and not self._done():
            self._room.clear()
            await self._room.wait()

    def add_words(self, words: Sequence[Word], until: float) -> None:
        """A final's words, given to the scorer after the audio queued before them."""
        self._start()
        self._ops.append((words, until))
        self._wakeup.set()

    async def finish(self) -> None:
        """End of the leg: score what is queued and the scorer's last samples; wait for it."""
        self._start()
        self._finishing = True
        self._wakeup.set()
        assert self._task is not None
        await self._task

    def _start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"stress-{self.leg}")

    def _done(self) -> bool:
        return self._task is not None and self._task.done()

    async def _run(self) -> None:
        while True:
            while not self._ops and not self._finishing:
                self._wakeup.clear()
                await self._wakeup.wait()
            if not self._ops:
                await self._step(self._last)
                return
            op = self._ops.popleft()
            if isinstance(op, tuple):
                self.scorer.add_words(op[0], until=op[1])
                continue
            parts = [op]
            while self._ops and isinstance(nxt := self._ops[0], bytes):
                self._ops.popleft()
                parts.append(nxt)
            pcm = b"".join(parts)
            await self._step(self._push, pcm)
            self._backlog -= len(pcm)
            if self._backlog <= self.max_backlog:
                self._room.set()

    async def _step(self, fn: Callable[..., Scored], *args: bytes) -> None:
        try:
            samples, events = await self.runner.run_deferred(fn, *args)
        except AgentMonitorError:
            self.errors += 1
            log.exception("%s leg: stress not scored", self.leg)
            return
        if samples or events:
            await self.sink.on_stress(self.leg, samples, events)

    def _push(self, pcm: bytes) -> Scored:
        """Runs in a pool thread."""
        return self.scorer.push_pcm(pcm), self.scorer.drain_events()

    def _last(self) -> Scored:
        """Runs in a pool thread."""
        return self.scorer.finish(), self.scorer.drain_events()
