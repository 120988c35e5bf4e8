"""Ctrl-C pressed once or more into a running ``eval asr``, as a user presses it: how it ends.

    python benchmarks/stop_presses.py [--presses 1,2,3] [--runs 60] [--gap-ms 50] [--seed 49]
        [--folder DIR]

Starts ``python -m agent_monitor eval asr FOLDER --conditions clean,gsm --words-out FILE`` (the
real model and recordings; ``FOLDER`` defaults to ``speech/en/mfa_spontaneous`` of the evaluation
data), waits for its first decoded clip (the word log's first line), then after a random 0-200 ms
sends SIGINT ``presses`` times, a random 0-``gap-ms`` apart. A run is clean when the command
exits 130 with ``agent-monitor: interrupted`` as its last line, nothing else on stderr but the
lines it printed before the stop, and the previous word log untouched. Prints per press count how
many runs ended each way and the median seconds from the first press to the exit. The draws are
seeded (``--seed``); the moments the signals land are not (the machine's timing decides).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from agent_monitor.settings import Settings  # noqa: E402
from benchmarks.press_runs import default_sigint, press, press_parser, run_press_counts  # noqa: E402

PREVIOUS_LOG = "the previous run's log\n"


def outcome(status: int, err: str, log: Path) -> str:
    """How one run ended, in words."""
    if status < 0:
        return f"died by {signal.Signals(-status).name}"
    if "Task was destroyed but it is pending" in err:
        return "'Task was destroyed but it is pending!'"
    if "Traceback" in err or "Exception ignored" in err:
        return "a traceback"
    if status != 130 or not err.strip().endswith("agent-monitor: interrupted"):
        return f"exit {status} without the line"
    if log.read_text(encoding="utf-8") != PREVIOUS_LOG:
        return "the previous word log changed"
    return "clean"


def one_run(folder: Path, work: Path, presses: int, gap_s: float, draw: random.Random) -> tuple[str, float]:
    """Start the command, press Ctrl-C ``presses`` times; how it ended, and the seconds it took."""
    log = work / "words.jsonl"
    log.write_text(PREVIOUS_LOG, encoding="utf-8")
    partial = work / "words.jsonl.partial"
    partial.unlink(missing_ok=True)
    command = [sys.executable, "-m", "agent_monitor", "eval", "asr", str(folder)]
    command += ["--conditions", "clean,gsm", "--words-out", str(log)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AGENT_MONITOR_DATA_DIR": str(work / "data")}
    proc = subprocess.Popen(  # SIGINT at its default: a shell starts a background job ignoring it
        command,
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    )
    deadline = time.monotonic() + 120
    while not (partial.exists() and partial.stat().st_size > 30):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            return f"never decoded a clip (exit {proc.wait()})", 0.0
        time.sleep(0.005)
    time.sleep(draw.uniform(0, 0.2))
    first = press(proc, presses, gap_s, draw)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return "still running 60 s after the presses", time.monotonic() - first
    return outcome(proc.returncode, err, log), time.monotonic() - first


def main() -> None:
    parser = press_parser(__doc__, runs=60, gap_ms=50.0, seed=49)
    parser.add_argument("--folder", type=Path, help="a folder with labels.csv (default: see above)")
    args = parser.parse_args()
    folder = args.folder or Settings().eval_data_dir / "speech/en/mfa_spontaneous"
    print(f"eval asr {folder}, {args.runs} runs per press count, presses 0-{args.gap_ms:g} ms apart")

    def one(presses: int, draw: random.Random) -> tuple[str, float]:
        with tempfile.TemporaryDirectory(prefix="stop-presses-") as tmp:
            return one_run(folder, Path(tmp), presses, args.gap_ms / 1000, draw)

    run_press_counts(args, one)


if __name__ == "__main__":
    main()
