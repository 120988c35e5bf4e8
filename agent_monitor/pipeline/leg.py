"""One leg of a call session: inbox -> resample -> VAD + Vosk -> rules; the debtor leg also -> stress.

A :class:`LegWorker` is one asyncio task per leg. It speaks to the stages only through the
Protocols of :mod:`agent_monitor.model.stages` (:class:`Transcriber`, :class:`LegChecker`,
:class:`StressScorer`). Everything blocking runs on the shared :class:`Runner` threads: recognition
(inside the transcriber) and the rule checker on each transcript in the urgent lane; the stress
scorer's numpy work in the deferred lane, from the leg's own :class:`StressLane` task, so a batch's
recognition never waits for its stress step. The worker only touches its own leg's state, in
order (the stress lane keeps its scorer's audio and words in order), so no two threads ever use
one recognizer, checker or scorer at once. Results go to the session (a :class:`LegSink`), which
publishes, stores and fuses them.

A leg whose call language has no installed model gets no transcriber (``None``): its audio is
still recorded and its stress still scored, but nothing is transcribed and no transcript rule
runs on it (a must-say rule would otherwise fire on a call nobody could hear).
"""

from __future__ import annotations

import logging
from typing import Protocol

from agent_monitor.errors import AgentMonitorError
from agent_monitor.model.audio import BYTES_PER_SAMPLE, Leg
from agent_monitor.model.rules import HitEvent, RequiredDisclosure
from agent_monitor.model.stages import LegChecker, Runner, StressScorer, Transcriber
from agent_monitor.model.stress import StressEvent, StressSample
from agent_monitor.model.transcript import Transcript
from agent_monitor.pipeline.audio_in import MAX_BATCH_S, AudioDecoder, Chunk, LegInbox, Resampler
from agent_monitor.pipeline.metrics import NO_METRICS, PipelineMetrics
from agent_monitor.pipeline.stress_lane import StressLane
from agent_monitor.settings import Settings

log = logging.getLogger(__name__)


class LegSink(Protocol):
    """Where a leg worker delivers its results (the call session)."""

    async def on_transcripts(self, leg: Leg, transcripts: list[Transcript]) -> None: ...

    async def on_hit_events(
        self, leg: Leg, events: list[HitEvent], t: float, transcript: Transcript | None = None
    ) -> None: ...

    async def on_stress(self, leg: Leg, samples: list[StressSample], events: list[StressEvent]) -> None: ...

    async def on_dropped(self, leg: Leg, chunks: int, seconds: float, t: float) -> None: ...

    async def on_progress(self, leg: Leg, t: float) -> None: ...

    async def on_checklist(self, leg: Leg, items: tuple[RequiredDisclosure, ...], t: float) -> None: ...


class LegWorker:
    """The processing chain of one leg (see the module documentation)."""

    def __init__(
        self,
        *,
        leg: Leg,
        settings: Settings,
        runner: Runner,
        transcriber: Transcriber | None,
        checker: LegChecker | None,
        scorer: StressScorer | None,
        sink: LegSink,
        encoding: str,
        sample_rate: int,
        t0: float = 0.0,
        metrics: PipelineMetrics = NO_METRICS,
    ) -> None:
        """``runner``: the shared threads for blocking work; ``transcriber``: the leg's speech
        recognition (``None``: not transcribed; released when the leg ends)."""
        self.leg = leg
        self.runner = runner
        self.checker = checker
        self.scorer = scorer
        self.sink = sink
        self.sample_rate = sample_rate
        self.t0 = t0
        self.decoder = AudioDecoder(encoding)
        self.inbox = LegInbox(sample_rate, settings.live.leg_queue_s)
        self.asr_rate = settings.asr.sample_rate
        self.resampler = Resampler(sample_rate, self.asr_rate)
        self.transcriber = transcriber
        #: the scored leg's stress, off the recognition path (:mod:`agent_monitor.pipeline.stress_lane`)
        self.stress = (
            StressLane(
                leg, scorer, runner, sink, sample_rate=self.asr_rate, max_backlog_s=settings.live.leg_queue_s
            )
            if scorer is not None
            else None
        )
        self.processed_samples = 0
        self.errors = 0
        self.last_error: str | None = None
        self.metrics = metrics

    @property
    def clock(self) -> float:
        """Call time up to which this leg's audio has been processed."""
        return self.t0 + self.processed_samples / self.sample_rate

    @property
    def received_clock(self) -> float:
        return self.t0 + self.inbox.received_samples / self.sample_rate

    async def run(self) -> None:
        """Process the inbox until it is closed and drained, then settle the last utterance."""
        while (chunk := await self.inbox.get()) is not None:
            try:
                await self._process(chunk)
            except AgentMonitorError as exc:
                self.errors += 1
                self.last_error = str(exc)
                log.exception("%s leg: audio chunk at %.2f s not processed", self.leg, self.clock)
            self.processed_samples += chunk.samples
            self.metrics.recognition_lag(self.leg, self.received_clock - self.clock)
            await self.sink.on_progress(self.leg, self.clock)
        await self._finish()

    async def _process(self, chunk: Chunk) -> None:
        if chunk.pcm is not None:
            await self._analyse(
                self.resampler.push(chunk.pcm), end=self.clock + chunk.samples / self.sample_rate
            )
            return
        self.metrics.audio_dropped(self.leg, chunk.samples / self.sample_rate)
        await self.sink.on_dropped(
            self.leg,
            self.inbox.dropped_chunks,
            self.inbox.dropped_samples / self.sample_rate,
            self.clock,
        )
        # the gap's silence in slices of at most one batch: a gap is as long as the audio a client
        # sent too fast, so its size is the client's choice and must not become one allocation
        step = max(1, int(MAX_BATCH_S * self.sample_rate))
        for done in range(0, chunk.samples, step):
            n = min(step, chunk.samples - done)
            end = self.clock + (done + n) / self.sample_rate
            await self._analyse(self.resampler.push(bytes(n * BYTES_PER_SAMPLE)), end=end)

    async def _analyse(self, pcm: bytes, end: float, last: bool = False) -> None:
        if self.stress is not None:
            await self.stress.push(pcm)
        transcripts = await self._recognize(pcm, last)
        if transcripts:
            await self.sink.on_transcripts(self.leg, transcripts)
            for tr in transcripts:
                if tr.final and self.stress is not None and tr.words:
                    self.stress.add_words(tr.words, until=tr.end)
                if self.checker is not None:
                    hits = await self.runner.run(self.checker.update, tr)
                    if hits:
                        await self.sink.on_hit_events(self.leg, hits, tr.end, tr)
        missed = self.checker.advance(end) if self.checker is not None else []
        if missed:
            await self.sink.on_hit_events(self.leg, missed, end)
        if self.checker is not None:
            await self.sink.on_checklist(self.leg, self.checker.checklist(), end)

    async def _recognize(self, pcm: bytes, last: bool) -> list[Transcript]:
        if self.transcriber is None:
            return []
        out = await self.transcriber.feed(pcm) if pcm else []
        if last:
            out += await self.transcriber.close()
        return out

    async def _finish(self) -> None:
        try:
            await self._analyse(self.resampler.push(b"", last=True), end=self.clock, last=True)
        except AgentMonitorError as exc:
            self.errors += 1
            self.last_error = str(exc)
            log.exception("%s leg: the end of the audio was not processed", self.leg)
            return  # a recognizer in an unknown state is not reused
        finally:
            if self.stress is not None:
                await self.stress.finish()
        if self.transcriber is not None:
            await self.transcriber.release()
