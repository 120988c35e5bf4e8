"""CPU per stage of the live chain, per second of leg audio and of speech, on real and dense calls.

    python benchmarks/bench_asr_cost.py [--dialogues N] [--recognizers warm|cold|both]
        [--seconds S] [--chunk-s 0.1] [--memory N]

Sources: the SpokenWOZ call (``calls/spokenwoz/MUL1011.opus``, 8 kHz stereo) and ``--dialogues``
dense two-party collection dialogues of the prodigal tuning half, spoken by the live evaluation's
TTS voices as clean 8 kHz two-leg calls (``agent_monitor.evaluation.live``; rendered speech is
cached under ``--tts-cache``). Each leg runs through the pipeline's own pieces in one thread
(:mod:`benchmarks.asr_cost_probe`): resampling 8->16 kHz, VAD and level tracking, Vosk (accept,
partials, finals), the recognizer's Python, the keyword second pass (agent leg), the rules and
the debtor's stress tracker. Fusion, the bus and storage are not in this table: they run on the
event loop per event, not per audio frame (``bench_live.py`` measures the whole server).

``--recognizers``: every leg gets a spare recognizer as the server's prewarm makes it (``warm``,
``asr.warmup_s``), a never-used one (``cold``), or both in turn (two tables, same run).
``--memory N``: also the resident memory of N spares, never-used and warmed. Settings come from
the environment as for the server (e.g. ``AGENT_MONITOR_ASR__PARTIAL_INTERVAL_S=1.0``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_monitor.evaluation.live.evaluate import LiveEvalOptions, build_calls
from agent_monitor.ingest.call_audio import CallAudio, load_call_audio
from agent_monitor.model.audio import Leg
from agent_monitor.settings import Settings, load_settings
from asr.recognizer import SpareRecognizer
from asr.streaming import RecognizerPool
from asr.warmup import pseudo_speech, warm_up
from benchmarks.asr_cost_probe import STAGES, Costs, LegRun, run_leg
from emotion.live import StressTrackers
from qa_rules.live import LiveRules


def sources(settings: Settings, args: argparse.Namespace) -> list[tuple[str, CallAudio]]:
    call = load_call_audio(settings.eval_data_dir / "calls" / "spokenwoz" / "MUL1011.opus")
    out = [("spokenwoz MUL1011", call)]
    if args.dialogues:
        options = LiveEvalOptions(
            data_dir=settings.eval_data_dir,
            tts_cache=args.tts_cache,
            split="tune",
            calls=args.dialogues,
            conditions="clean",
            max_gain_db=0.0,
        )
        out += [(f"dense {c.dialogue.call_id}", c.audio) for c in build_calls(options)]
    if args.seconds:
        out = [(name, audio.excerpt(0.0, args.seconds)) for name, audio in out]
    return out


def spare_for(pool: RecognizerPool, kind: str) -> SpareRecognizer:
    spare = pool._new_recognizer()
    if kind == "warm" and pool.warmup_s > 0:
        spare = warm_up(spare, pseudo_speech(pool.warmup_s, pool.sample_rate))
    return spare


def measure(
    pool: RecognizerPool, settings: Settings, calls: list[tuple[str, CallAudio]], kind: str, chunk_s: float
) -> list[tuple[str, Costs]]:
    rules = LiveRules.from_settings(settings)
    stress = StressTrackers(settings)
    rows = []
    for name, audio in calls:
        total = Costs()
        for leg in (Leg.AGENT, Leg.DEBTOR):
            run = LegRun(
                leg=leg,
                pcm=audio.leg(leg).astype("<i2").tobytes(),
                rate=audio.sample_rate,
                spare=spare_for(pool, kind),
                keywords=rules.key_terms(pool.lang, leg),
                checker=rules.checker(pool.lang, leg),
                scorer=stress.scorer(leg, 0.0) if stress.scored(leg) else None,
            )
            total.add(run_leg(pool, settings, run, chunk_s))
        rows.append((name, total))
    return rows


def format_table(rows: list[tuple[str, Costs]], kind: str) -> str:
    lines = [f"recognizers: {kind}; CPU ms per second of leg audio (per second of speech Vosk heard)"]
    head = f"{'stage':<24}" + "".join(f"{name[:26]:>28}" for name, _ in rows)
    lines += [head, "-" * len(head)]
    for stage in (*STAGES, "total"):
        cells = []
        for _, c in rows:
            cpu = sum(c.cpu.values()) if stage == "total" else c.cpu.get(stage, 0.0)
            cells.append(f"{1000 * cpu / c.audio_s:>12.2f} ({1000 * cpu / max(c.speech_s, 1e-9):>8.2f})")
        lines.append(f"{stage:<24}" + "".join(f"{cell:>28}" for cell in cells))
    lines.append(
        f"{'legs audio / speech s':<24}"
        + "".join(f"{f'{c.audio_s:.0f} / {c.speech_s:.0f} s, {c.words} words':>28}" for _, c in rows)
    )
    return "\n".join(lines)


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def memory(pool: RecognizerPool, n: int) -> str:
    base = rss_mib()
    cold = [pool._new_recognizer() for _ in range(n)]
    after_cold = rss_mib()
    pcm = pseudo_speech(pool.warmup_s or 2.0, pool.sample_rate)
    warm = [warm_up(s, pcm) for s in cold]
    after_warm = rss_mib()
    del cold, warm
    return (
        f"memory: {n} never-used spares +{after_cold - base:.0f} MiB RSS "
        f"({(after_cold - base) / n:.1f} MiB each); warmed on {pool.warmup_s or 2.0:.1f} s "
        f"+{after_warm - base:.0f} MiB ({(after_warm - base) / n:.1f} MiB each); RSS now {after_warm:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialogues", type=int, default=2, help="dense prodigal dialogues (tuning half)")
    parser.add_argument("--recognizers", choices=("warm", "cold", "both"), default="warm")
    parser.add_argument("--seconds", type=float, default=0.0, help="only the first S seconds of each call")
    parser.add_argument("--chunk-s", type=float, default=0.1, help="audio per pipeline step")
    parser.add_argument("--memory", type=int, default=0, metavar="N", help="also RSS of N spares")
    parser.add_argument("--tts-cache", type=Path, default=Path("data/tts-cache"))
    args = parser.parse_args()
    settings = load_settings()
    pool = RecognizerPool.from_settings(settings)
    try:
        print(
            f"model {settings.asr.model}; decoder {settings.asr.decoder.get(pool.lang) or 'as installed'}; "
            f"partial_interval_s {settings.asr.partial_interval_s}; second pass "
            f"{settings.asr.keyword_second_pass}; warmup_s {settings.asr.warmup_s}"
        )
        calls = sources(settings, args)
        for kind in ("cold", "warm") if args.recognizers == "both" else (args.recognizers,):
            print(format_table(measure(pool, settings, calls, kind, args.chunk_s), kind), flush=True)
        if args.memory:
            print(memory(pool, args.memory))
    finally:
        pool.close()


if __name__ == "__main__":
    main()
