"""Ctrl-C pressed once or more into ``serve`` while a call streams into it: how it ends and what
the call's records say.

    python benchmarks/serve_stop_presses.py [--presses 1,2,3] [--runs 8] [--gap-ms 100]
        [--seed 50] [--call FILE]

Each run starts ``python -m agent_monitor serve`` on a new data directory (SQLite, no speech
worker processes), replays ``FILE`` into it at 1x with ``agent-monitor replay`` (default: the
SpokenWOZ call ``calls/spokenwoz/MUL1011.opus`` of the evaluation data), waits until the call has
its first utterance stored and 5-10 s more, then sends SIGINT ``presses`` times, a random
0-``gap-ms`` apart. A run is clean when the server exits 130 with ``agent-monitor: interrupted``
as its last line and no traceback, the call's row says ``aborted`` and ``db verify`` passes with no
recording left open. Prints per press count how many runs ended each way and the median seconds
from the first press to the exit. The child's SIGINT is set to its default action (a shell starts
a background job with SIGINT ignored, and a Python started so keeps ignoring it). The draws are
seeded; the moments the signals land are not.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from agent_monitor.settings import Settings  # noqa: E402
from benchmarks.press_runs import default_sigint, press, press_parser, run_press_counts  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    if not db.exists():
        return []
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
        try:
            return conn.execute(sql).fetchall()
        except sqlite3.OperationalError:  # not created yet, or locked by the writer
            return []


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "agent_monitor", *args]
    return subprocess.Popen(
        command,
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    )


def _up(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def _wait(ready: Callable[[], object], proc: subprocess.Popen[str], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not ready():
        if proc.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def outcome(
    status: int, err: str, call: list[tuple[object, ...]], verify: subprocess.CompletedProcess[str]
) -> str:
    """How one run ended, in words."""
    if status < 0:
        return f"died by {signal.Signals(-status).name}"
    if call == [("live",)]:
        return "the call left live"
    if "Traceback" in err or "Exception ignored" in err:
        return "a traceback"
    if status != 130 or not err.strip().endswith("agent-monitor: interrupted"):
        return f"exit {status} without the line"
    said = verify.stdout + verify.stderr
    if call != [("aborted",)] or verify.returncode != 0 or "open recording" in said:
        return f"the call {call}, db verify {verify.returncode}"
    return "clean"


def one_run(
    call_file: Path, work: Path, presses: int, gap_s: float, draw: random.Random
) -> tuple[str, float]:
    """Start the server and the call, press Ctrl-C ``presses`` times; how it ended, and the
    seconds it took."""
    data = work / "data"
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AGENT_MONITOR_DATA_DIR": str(data)}
    env |= {
        "AGENT_MONITOR_SERVER__PORT": str(port),
        "AGENT_MONITOR_SERVER__AUDIOSOCKET_PORT": str(_free_port()),
    }
    env |= {"AGENT_MONITOR_ASR__SPARE_RECOGNIZERS": "0", "AGENT_MONITOR_SERVER__WORKERS": "0"}
    server = _start(["serve"], env)
    db = data / "agent-monitor.db"
    replay = None
    try:
        if not _wait(lambda: _up(port), server, 120):
            return f"never started (exit {server.poll()})", 0.0
        replay = _start(
            ["replay", str(call_file), "--server", f"http://127.0.0.1:{port}", "--call-id", "c1"], env
        )
        if not _wait(lambda: _rows(db, "SELECT 1 FROM utterances WHERE call_id = 'c1'"), server, 120):
            return f"never stored an utterance (exit {server.poll()})", 0.0
        time.sleep(draw.uniform(5, 10))
        first = press(server, presses, gap_s, draw)
        try:
            _, err = server.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            return "still running 90 s after the presses", time.monotonic() - first
        took = time.monotonic() - first
    finally:
        for proc in (server, replay):
            if proc is not None:
                proc.kill()
                proc.communicate()
    call = _rows(db, "SELECT status FROM calls WHERE id = 'c1'")
    verify = subprocess.run(
        [sys.executable, "-m", "agent_monitor", "db", "verify"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return outcome(server.returncode, err, call, verify), took


def main() -> None:
    parser = press_parser(__doc__, runs=8, gap_ms=100.0, seed=50)
    parser.add_argument("--call", type=Path, help="a call recording (default: see above)")
    args = parser.parse_args()
    call_file = args.call or Settings().eval_data_dir / "calls/spokenwoz/MUL1011.opus"
    print(
        f"serve with {call_file} replayed, {args.runs} runs per press count, "
        f"presses 0-{args.gap_ms:g} ms apart"
    )

    def one(presses: int, draw: random.Random) -> tuple[str, float]:
        with tempfile.TemporaryDirectory(prefix="serve-stop-presses-") as tmp:
            return one_run(call_file, Path(tmp), presses, args.gap_ms / 1000, draw)

    run_press_counts(args, one)


if __name__ == "__main__":
    main()
