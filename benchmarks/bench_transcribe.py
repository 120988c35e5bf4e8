"""Throughput of `agent-monitor transcribe` on the 3-minute 8 kHz stereo call.

    python benchmarks/bench_transcribe.py [FILE] [--repeat N]

Runs the same code path as the CLI (decode, stereo split, VAD-gated Vosk on both legs in worker
threads) and prints wall time, CPU time and the speed-up over real time. The model load is timed
separately (the CLI pays it once per invocation).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_monitor.settings import load_settings
from asr.streaming import RecognizerPool
from asr.transcribe import transcribe_file


def main() -> None:
    settings = load_settings()
    default = settings.eval_data_dir / "calls" / "spokenwoz" / "MUL1011.opus"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=default)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    t0 = time.perf_counter()
    pool = RecognizerPool.from_settings(settings)
    load_s = time.perf_counter() - t0
    print(f"model load: {load_s:.2f} s   workers: {pool.workers}")
    best = None
    for i in range(args.repeat):
        cpu0, wall0 = time.process_time(), time.perf_counter()
        result = transcribe_file(pool, settings, args.file)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        words = sum(len(t.words) for t in result.transcripts)
        print(
            f"run {i + 1}: audio {result.duration:.1f} s, wall {wall:.2f} s, cpu {cpu:.2f} s, "
            f"{result.duration / wall:.1f}x real time, {len(result.transcripts)} utterances, {words} words"
        )
        best = max(best or 0.0, result.duration / wall)
    pool.close()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"best: {best:.1f}x real time   peak RSS: {rss_mb:.0f} MiB")


if __name__ == "__main__":
    main()
