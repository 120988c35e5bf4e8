"""Per-stage CPU of one leg, run synchronously in one thread (for ``bench_asr_cost.py``).

The leg goes through the live pipeline's own pieces in the live order: the pipeline's resampler,
the VAD segmenter with its level tracker, the leg's recognizer (Vosk), the keyword second pass,
the rule checker and the debtor's stress tracker. Each is timed with ``time.thread_time`` (CPU of
this thread only, so other processes on the machine do not count). The Vosk recognizer is the
real one, wrapped by :class:`TimedKaldi`, which times every call into it.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from agent_monitor.model.audio import BYTES_PER_SAMPLE, Leg
from agent_monitor.model.stages import LegChecker, StressScorer
from agent_monitor.model.transcript import Transcript
from agent_monitor.pipeline.audio_in import Resampler
from agent_monitor.settings import Settings
from asr.keyword_rescore import KeywordRescorer, Rescored
from asr.recognizer import LegRecognizer, SpareRecognizer
from asr.streaming import LegTranscriber, RecognizerPool

T = TypeVar("T")

STAGES = (
    "resample",
    "vad+level",
    "vosk AcceptWaveform",
    "vosk PartialResult",
    "vosk Result/FinalResult",
    "recognizer python",
    "keyword 2nd pass",
    "rules",
    "stress",
)


@dataclass
class Costs:
    """CPU seconds per stage, and the audio they were spent on."""

    cpu: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    audio_s: float = 0.0
    speech_s: float = 0.0
    words: int = 0

    def timed(self, stage: str, fn: Callable[..., T], *args: Any) -> T:
        t0 = time.thread_time()
        try:
            return fn(*args)
        finally:
            self.cpu[stage] += time.thread_time() - t0
            self.calls[stage] += 1

    def add(self, other: Costs) -> None:
        for k, v in other.cpu.items():
            self.cpu[k] += v
        for k, n in other.calls.items():
            self.calls[k] += n
        self.audio_s += other.audio_s
        self.speech_s += other.speech_s
        self.words += other.words


#: the stage each timed Vosk method is counted in
KALDI_STAGES = {
    "AcceptWaveform": "vosk AcceptWaveform",
    "PartialResult": "vosk PartialResult",
    "Result": "vosk Result/FinalResult",
    "FinalResult": "vosk Result/FinalResult",
}


class TimedKaldi:
    """A real ``KaldiRecognizer`` whose calls are timed into ``costs``."""

    def __init__(self, kaldi: Any, costs: Costs) -> None:
        self.kaldi = kaldi
        self.costs = costs

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.kaldi, name)
        stage = KALDI_STAGES.get(name)
        if stage is None:
            return method
        return lambda *args: self.costs.timed(stage, method, *args)


class TimedRescorer(KeywordRescorer):
    """The keyword second pass, timed."""

    def __init__(self, model: Any, rate: int, terms: Sequence[str], costs: Costs, below_conf: float) -> None:
        super().__init__(model, rate, terms, below_conf)
        self.costs = costs

    def rescore(self, pcm: bytes, words: Sequence[str]) -> Rescored:
        return self.costs.timed("keyword 2nd pass", super().rescore, pcm, words)


@dataclass
class LegRun:
    """What one leg needs: its audio (16-bit PCM at ``rate``), a recognizer, its checker/scorer."""

    leg: Leg
    pcm: bytes
    rate: int
    spare: SpareRecognizer
    keywords: tuple[str, ...] = ()
    checker: LegChecker | None = None
    scorer: StressScorer | None = None


def run_leg(pool: RecognizerPool, settings: Settings, run: LegRun, chunk_s: float) -> Costs:
    """Feed one leg in ``chunk_s`` pieces through every stage; return the CPU of each."""
    costs = Costs()
    asr_rate = settings.asr.sample_rate
    resampler = Resampler(run.rate, asr_rate)
    spare = SpareRecognizer(TimedKaldi(run.spare.kaldi, costs), run.spare.fed)
    lt = LegTranscriber(pool, settings, run.leg, spare=spare)
    if run.keywords and settings.asr.keyword_second_pass and pool.grammar_model is not None:
        rescorer = TimedRescorer(
            pool.grammar_model, asr_rate, run.keywords, costs, settings.asr.keyword_second_pass_below_conf
        )
        lt.recognizer = LegRecognizer(
            spare,
            asr_rate,
            run.leg,
            lang=pool.lang,
            partial_interval_s=settings.asr.partial_interval_s,
            rescorer=rescorer,
            rescore_at_pause=settings.asr.keyword_second_pass_at_pause,
        )
    step = max(1, int(chunk_s * run.rate)) * BYTES_PER_SAMPLE
    for i in range(0, len(run.pcm) + step, step):
        last = i >= len(run.pcm)
        pcm = costs.timed("resample", resampler.push, run.pcm[i : i + step], last)
        outputs = costs.timed("vad+level", lt.vad.flush if last else lt.vad.push, *(() if last else (pcm,)))
        transcripts = _recognize(lt, outputs, last, costs)
        _analyse(run, pcm, transcripts, costs, end=(i + step) / BYTES_PER_SAMPLE / run.rate, last=last)
        if last:
            break
    costs.audio_s = len(run.pcm) / BYTES_PER_SAMPLE / run.rate
    costs.speech_s = (lt.recognizer.spare().fed - run.spare.fed) / asr_rate  # audio Vosk heard
    return costs


def _recognize(lt: LegTranscriber, outputs: list[Any], closing: bool, costs: Costs) -> list[Transcript]:
    if not outputs and not lt._settle_due(closing):
        return []
    before = sum(costs.cpu[s] for s in STAGES[2:7])
    t0 = time.thread_time()
    transcripts, _ = lt._recognize(outputs, closing)
    inside = sum(costs.cpu[s] for s in STAGES[2:7]) - before
    costs.cpu["recognizer python"] += time.thread_time() - t0 - inside
    costs.words += sum(len(t.words) for t in transcripts if t.final)
    return transcripts


def _analyse(
    run: LegRun, pcm: bytes, transcripts: list[Transcript], costs: Costs, *, end: float, last: bool
) -> None:
    if run.checker is not None:
        for tr in transcripts:
            costs.timed("rules", run.checker.update, tr)
        costs.timed("rules", run.checker.advance, end)
        costs.timed("rules", run.checker.checklist)
    if run.scorer is not None:
        if pcm:
            costs.timed("stress", run.scorer.push_pcm, pcm)
        for tr in transcripts:
            if tr.final and tr.words:
                costs.timed("stress", run.scorer.add_words, tr.words, tr.end)
        if last:
            costs.timed("stress", run.scorer.finish)
        costs.timed("stress", run.scorer.drain_events)
