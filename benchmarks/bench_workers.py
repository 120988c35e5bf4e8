"""Speech recognition in this process (threads) against N worker processes: CPU and memory.

    python benchmarks/bench_workers.py [--workers 0,1,2] [--calls 4] [--seconds 30] [--spares 16]

For each ``server.workers`` value, builds the speech stage as a server does
(:func:`agent_monitor.compose.load_speech`: ``0`` = :class:`asr.languages.LanguageModels` in this
process, ``N`` = a :class:`agent_monitor.workers.pool.WorkerPool` of N processes, the
``asr.spare_recognizers`` split over them), then transcribes ``--calls`` stereo calls at once: the
real SpokenWOZ call (``calls/spokenwoz/MUL1011.opus``), a ``--seconds`` excerpt from a different
offset per call, both legs fed in 0.1 s pieces (the live inbox's smallest batch) as fast as the
recognizers take them. It reports, measured (CPU from ``getrusage`` for this process and
``/proc/PID/stat`` for each worker, all threads; memory from ``/proc/PID/status`` and
``smaps_rollup``):

- **idle memory**: per worker, RSS and PSS once its model is loaded and its spares built (PSS
  splits pages shared between the workers, e.g. the model files in the page cache); for ``0`` the
  growth of this process's RSS from before the model load;
- **memory per call**: the growth of RSS (all workers together) from before the calls to the end
  of the audio, legs still open, divided by the calls; twice: on the fresh spare recognizers
  (*cold*: a recognizer's first long utterances grow Kaldi's decoder memory, which it keeps), then
  the same calls again on the used ones (*warm*: a server that has been taking calls);
- **CPU per call**: CPU seconds per second of stereo call audio, in percent of one core, of the
  front (this process: feeding, pickling, the reader/sender threads) and of the workers (Vosk),
  and their sum; for ``0`` everything is in the front. The difference between a pool's sum and
  ``0`` is what the processes cost in hand-offs;
- the final words recognised (the same work was done in every configuration).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_monitor.audio.decode import decode_file, split_legs
from agent_monitor.compose import load_speech
from agent_monitor.model.audio import BYTES_PER_SAMPLE, Leg
from agent_monitor.model.stages import Transcriber, TranscriberFactory
from agent_monitor.settings import Settings, load_settings
from agent_monitor.workers.pool import WorkerPool

RATE = 16000
PIECE = int(0.1 * RATE) * BYTES_PER_SAMPLE
CALL = "calls/spokenwoz/MUL1011.opus"
TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Round:
    """One round of calls: memory growth per call, CPU per call, words."""

    rss_per_call_mib: float = 0.0
    front_cpu_pct: float = 0.0
    worker_cpu_pct: float = 0.0
    wall_s: float = 0.0
    words: int = 0


@dataclass
class Figures:
    """The measurements of one configuration: idle memory, then a cold and a warm round."""

    workers: int
    idle_rss_mib: list[float]
    idle_pss_mib: list[float]
    rounds: list[Round] = field(default_factory=list)


def rss_mib(pid: int) -> float:
    return _status_kib(Path(f"/proc/{pid}/status"), "VmRSS:") / 1024


def pss_mib(pid: int) -> float:
    return _status_kib(Path(f"/proc/{pid}/smaps_rollup"), "Pss:") / 1024


def _status_kib(path: Path, key: str) -> float:
    for line in path.read_text().splitlines():
        if line.startswith(key):
            return float(line.split()[1])
    return 0.0


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def self_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def worker_pids(factory: TranscriberFactory) -> list[int]:
    return [w.pid for w in factory.workers] if isinstance(factory, WorkerPool) else []


def call_excerpts(settings: Settings, calls: int, seconds: float) -> list[dict[Leg, bytes]]:
    """``calls`` excerpts of the real call, each from its own offset (both legs, 16 kHz PCM)."""
    legs = split_legs(decode_file(settings.eval_data_dir / CALL, target_rate=RATE), None, "left")
    size = int(seconds * RATE) * BYTES_PER_SAMPLE
    total = min(len(pcm) for pcm in legs.values())
    step = max(0, (total - size) // max(1, calls)) // PIECE * PIECE
    return [{leg: pcm[i * step : i * step + size] for leg, pcm in legs.items()} for i in range(calls)]


async def feed_leg(transcriber: Transcriber, pcm: bytes) -> int:
    words = 0
    for i in range(0, len(pcm), PIECE):
        words += sum(len(t.words) for t in await transcriber.feed(pcm[i : i + PIECE]) if t.final)
    return words


def recognition_rss_mib(factory: TranscriberFactory) -> float:
    """RSS of the processes that recognise: the workers, or this process."""
    pids = worker_pids(factory)
    return sum(rss_mib(p) for p in pids) if pids else rss_mib(os.getpid())


async def run_calls(factory: TranscriberFactory, calls: list[dict[Leg, bytes]]) -> Round:
    """Feed every leg of every call at once; measure CPU over the feeding and RSS at its end."""
    pids, result = worker_pids(factory), Round()
    idle = recognition_rss_mib(factory)
    opened = [
        (await factory.transcriber("en", leg, t0=0.0, first_utterance=0, keywords=()), pcm)
        for call in calls
        for leg, pcm in call.items()
    ]
    front0, workers0, wall0 = self_cpu_s(), sum(proc_cpu_s(p) for p in pids), time.monotonic()
    counts = await asyncio.gather(*(feed_leg(t, pcm) for t, pcm in opened))
    front1, workers1 = self_cpu_s(), sum(proc_cpu_s(p) for p in pids)
    result.wall_s = time.monotonic() - wall0
    result.rss_per_call_mib = (recognition_rss_mib(factory) - idle) / len(calls)
    for transcriber, _ in opened:
        counts += [len(t.words) for t in await transcriber.close() if t.final]
        await transcriber.release()
    call_s = len(next(iter(calls[0].values()))) / BYTES_PER_SAMPLE / RATE * len(calls)
    result.front_cpu_pct = 100 * (front1 - front0) / call_s
    result.worker_cpu_pct = 100 * (workers1 - workers0) / call_s
    result.words = sum(counts)
    return result


def measure(settings: Settings, workers: int, calls: list[dict[Leg, bytes]]) -> Figures:
    """Idle memory, then the calls on the fresh spare recognizers (cold) and once more (warm)."""
    server = settings.server.model_copy(update={"workers": workers})
    before = rss_mib(os.getpid())
    factory = load_speech(settings.model_copy(update={"server": server}))
    try:
        asyncio.run(factory.prewarm())
        pids = worker_pids(factory)
        if pids:
            figures = Figures(workers, [rss_mib(p) for p in pids], [pss_mib(p) for p in pids])
        else:
            figures = Figures(0, [rss_mib(os.getpid()) - before], [])
        for _ in ("cold", "warm"):
            figures.rounds.append(asyncio.run(run_calls(factory, calls)))
    finally:
        factory.close()
    return figures


def report(figures: Figures, calls: int, seconds: float) -> None:
    where = f"{figures.workers} worker processes" if figures.workers else "in-process threads (0)"
    print(f"\n== {where}: {calls} stereo calls x {seconds:.0f} s at once, fed as fast as taken")
    if figures.workers:
        rss = ", ".join(f"{r:.0f}" for r in figures.idle_rss_mib)
        pss = ", ".join(f"{p:.0f}" for p in figures.idle_pss_mib)
        print(f"  idle memory per worker (spares built): RSS {rss} MiB; PSS {pss} MiB")
    else:
        print(f"  idle memory: this process grew by {figures.idle_rss_mib[0]:.0f} MiB (model + spares)")
    for name, r in zip(("cold (fresh spares)", "warm (spares used once)"), figures.rounds, strict=True):
        total = r.front_cpu_pct + r.worker_cpu_pct
        print(
            f"  {name}: {r.wall_s:.1f} s; memory per call (legs open, end of audio) "
            f"+{r.rss_per_call_mib:.1f} MiB; CPU per real-time stereo call: front "
            f"{r.front_cpu_pct:.2f}% of a core, workers {r.worker_cpu_pct:.2f}%, sum {total:.2f}%; "
            f"{r.words} final words",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", default="0,1,2", help="server.workers values to compare")
    parser.add_argument("--calls", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--spares", type=int, default=None, help="asr.spare_recognizers (in all)")
    args = parser.parse_args()
    settings = load_settings()
    if args.spares is not None:
        asr = settings.asr.model_copy(update={"spare_recognizers": args.spares})
        settings = settings.model_copy(update={"asr": asr})
    calls = call_excerpts(settings, args.calls, args.seconds)
    print(
        f"cores {os.cpu_count()}, spare recognizers {settings.asr.spare_recognizers} in all, "
        f"asr.threads {settings.asr.threads or 'auto'}"
    )
    for workers in (int(w) for w in args.workers.split(",")):
        report(measure(settings, workers, calls), args.calls, args.seconds)


if __name__ == "__main__":
    main()
