"""``agent-monitor eval live --second-pass-ab``: when the keyword second pass runs, A/B in one run.

The live evaluation's calls (same split, choice, voices, lines and gains), without a server: each
call's agent leg is fed, in 0.1 s pieces on the call clock, through the real VAD and Vosk
(:class:`asr.streaming.LegTranscriber`) and the streaming rule checker, once with the second pass
at the final only (``asr.keyword_second_pass_at_pause`` off) and once also at every VAD end of
speech (on), one after the other per call. No wall clock: a hit's **delay** is the call time at
which the transcript that first announces it was emitted (how much audio had been fed) minus the
end of its words, i.e. the live warning latency less processing and queueing time. CPU: the
second pass's own (the thread CPU of its decodes, :class:`asr.keyword_rescore.KeywordRescorer`)
and the whole leg's (process CPU over the leg's run).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from agent_monitor.audio.decode import resample
from agent_monitor.evaluation.live.assemble import RATE, LiveCall
from agent_monitor.evaluation.live.scoring import turn_at
from agent_monitor.event_loops import run
from agent_monitor.model.audio import Leg
from agent_monitor.model.rules import HitStatus
from agent_monitor.model.transcript import Transcript
from agent_monitor.settings import Settings
from asr.streaming import LegTranscriber, RecognizerPool
from qa_rules.live import LiveRules
from qa_rules.packs import ABUSE_CATEGORIES
from qa_rules.streaming import LegChecker

PIECE_S = 0.1


@dataclass(frozen=True, slots=True)
class LegRun:
    """One agent leg in one mode: the delay of each flagged turn (by index: the call time its first
    abusive hit, among those kept at the end, was announced minus that hit's word end), the
    second pass's and the leg's CPU."""

    delays: dict[int, float]
    passes: int
    reused: int
    pass_cpu_s: float
    leg_cpu_s: float


@dataclass
class ModeTotals:
    delays: list[float] = field(default_factory=list)
    abusive_flagged: int = 0
    clean_flagged: int = 0
    passes: int = 0
    reused: int = 0
    pass_cpu_s: float = 0.0
    leg_cpu_s: float = 0.0

    def add(self, run: LegRun, call: LiveCall) -> None:
        labels = {p.turn.index: p.turn.label for p in call.turns if p.turn.leg is Leg.AGENT}
        self.delays += [d for i, d in run.delays.items() if labels.get(i) == 1]
        self.abusive_flagged += sum(labels.get(i) == 1 for i in run.delays)
        self.clean_flagged += sum(labels.get(i) == 0 for i in run.delays)
        self.passes += run.passes
        self.reused += run.reused
        self.pass_cpu_s += run.pass_cpu_s
        self.leg_cpu_s += run.leg_cpu_s


def agent_pcm(call: LiveCall, rate: int) -> bytes:
    """The call's agent leg as received, as 16-bit PCM at the recognizer's rate."""
    x = call.audio.agent.astype(np.float32)[None, :] / 32768.0
    y = resample(x, RATE, rate)[0]
    return np.clip(np.round(y * 32768.0), -32768, 32767).astype("<i2").tobytes()


async def run_leg(
    pool: RecognizerPool, settings: Settings, rules: LiveRules, call: LiveCall, pcm: bytes
) -> LegRun:
    """Feed one agent leg and follow its abusive hits (see the module's docstring)."""
    lt = LegTranscriber(pool, settings, Leg.AGENT, keywords=rules.key_terms("en", Leg.AGENT))
    checker = rules.checker("en", Leg.AGENT)
    first: dict[tuple[int | None, str], float] = {}
    kept: dict[tuple[int | None, str], tuple[float, bool]] = {}
    step = int(PIECE_S * settings.asr.sample_rate) * 2
    began = time.process_time()
    for i in range(0, len(pcm) + step, step):
        piece = pcm[i : i + step]
        out = await (lt.feed(piece) if piece else lt.close())
        _check(checker, out, lt.vad.time, first, kept)
    leg_cpu = time.process_time() - began
    rescorer = lt.recognizer.rescorer
    agent_turns = [p for p in call.turns if p.turn.leg is Leg.AGENT]
    delays: dict[int, tuple[float, float]] = {}
    for key, (end, ok) in kept.items():
        owner = turn_at(agent_turns, end) if ok else None
        if owner is not None and first[key] < delays.get(owner.turn.index, (float("inf"), 0.0))[0]:
            delays[owner.turn.index] = (first[key], first[key] - end)
    return LegRun(
        delays={i: d for i, (_, d) in delays.items()},
        passes=rescorer.passes if rescorer else 0,
        reused=rescorer.reused if rescorer else 0,
        pass_cpu_s=rescorer.cpu_s if rescorer else 0.0,
        leg_cpu_s=leg_cpu,
    )


def _check(
    checker: LegChecker,
    transcripts: list[Transcript],
    now: float,
    first: dict[tuple[int | None, str], float],
    kept: dict[tuple[int | None, str], tuple[float, bool]],
) -> None:
    for tr in transcripts:
        for event in checker.update(tr):
            hit = event.hit
            if hit.category not in ABUSE_CATEGORIES:
                continue
            key = (hit.utterance, hit.rule)
            first.setdefault(key, now)
            end = hit.end if hit.end is not None else tr.end
            kept[key] = (end, event.status is not HitStatus.WITHDRAWN)


def second_pass_ab(settings: Settings, calls: list[LiveCall]) -> dict[bool, ModeTotals]:
    """Both modes over every call's agent leg (off first, then on, per call), with the second
    pass itself on whatever the settings say (it is off by default)."""
    settings = settings.model_copy(
        update={"asr": settings.asr.model_copy(update={"keyword_second_pass": True})}
    )
    rules = LiveRules.from_settings(settings)
    pool = RecognizerPool.from_settings(settings)
    totals = {False: ModeTotals(), True: ModeTotals()}
    try:
        for call in calls:
            pcm = agent_pcm(call, settings.asr.sample_rate)
            for at_pause in (False, True):
                asr = settings.asr.model_copy(update={"keyword_second_pass_at_pause": at_pause})
                mode = settings.model_copy(update={"asr": asr})
                totals[at_pause].add(run(run_leg(pool, mode, rules, call, pcm)), call)
    finally:
        pool.close()
    return totals


def format_ab(totals: dict[bool, ModeTotals], calls: list[LiveCall]) -> str:
    abusive = sum(p.turn.label == 1 for c in calls for p in c.turns if p.turn.leg is Leg.AGENT)
    clean = sum(p.turn.label == 0 for c in calls for p in c.turns if p.turn.leg is Leg.AGENT)
    lines = [
        f"keyword second pass A/B: {len(calls)} calls' agent legs (SYNTHETIC speech), fed on the call "
        "clock without a server; delay per flagged abusive turn = call time its first abusive hit "
        "was announced - that hit's word end",
        "",
        "| second pass | abusive turns flagged | clean turns flagged | delay p50 / p95 / max s (n) "
        "| passes (reused at final) | second-pass CPU s | leg CPU s |",
        "|---|---|---|---|---|---|---|",
    ]
    for at_pause, t in totals.items():
        d = t.delays
        p50, p95 = (f"{np.percentile(d, q):.2f}" for q in (50, 95)) if d else ("n/a", "n/a")
        spread = f"{p50} / {p95} / {max(d, default=float('nan')):.2f} ({len(d)})"
        lines.append(
            f"| {'at pauses + final' if at_pause else 'final only'} | {t.abusive_flagged}/{abusive} "
            f"| {t.clean_flagged}/{clean} | {spread} | {t.passes} ({t.reused}) | {t.pass_cpu_s:.2f} "
            f"| {t.leg_cpu_s:.1f} |"
        )
    return "\n".join(lines)
