"""What the stop benchmarks share (``stop_presses.py``, ``serve_stop_presses.py``): the child's
SIGINT, the presses, the options, and the line per press count."""

from __future__ import annotations

import argparse
import random
import signal
import statistics
import subprocess
import time
from collections import Counter
from collections.abc import Callable

#: one run with this many presses: how it ended, in words, and the seconds from the first press
OneRun = Callable[[int, random.Random], tuple[str, float]]


def default_sigint() -> None:
    """A child's ``preexec_fn``: SIGINT at its default action (a shell starts a background job with
    SIGINT ignored, and a Python started so keeps ignoring it: no press would reach the command)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def press(proc: subprocess.Popen[str], presses: int, gap_s: float, draw: random.Random) -> float:
    """Send ``proc`` SIGINT ``presses`` times, a random 0-``gap_s`` apart (no more once it has
    ended); the monotonic time of the first press."""
    first = time.monotonic()
    for _ in range(presses):
        if proc.poll() is not None:
            break
        proc.send_signal(signal.SIGINT)
        time.sleep(draw.uniform(0, gap_s))
    return first


def press_parser(doc: str | None, runs: int, gap_ms: float, seed: int) -> argparse.ArgumentParser:
    """The options both benchmarks take, with their defaults."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presses", default="1,2,3", help="press counts to try (comma-separated)")
    parser.add_argument("--runs", type=int, default=runs, help="runs per press count")
    parser.add_argument("--gap-ms", type=float, default=gap_ms, help="largest gap between presses")
    parser.add_argument("--seed", type=int, default=seed)
    return parser


def run_press_counts(args: argparse.Namespace, one_run: OneRun) -> None:
    """``args.runs`` runs of ``one_run`` per press count of ``args.presses``; prints per count how
    many runs ended each way and the median seconds from the first press to the exit."""
    draw = random.Random(args.seed)
    for presses in (int(p) for p in args.presses.split(",")):
        ended: Counter[str] = Counter()
        took: list[float] = []
        for _ in range(args.runs):
            how, seconds = one_run(presses, draw)
            ended[how] += 1
            took.append(seconds)
        ways = ", ".join(f"{n} {how}" for how, n in ended.most_common())
        print(
            f"  {presses} press(es): {ways}; median {statistics.median(took):.2f} s to the exit", flush=True
        )
