"""``agent-monitor demo`` as a new user runs it: a server starts, the sample call (with synthetic
espeak-ng violations) is replayed as live calls, and calls and alerts are printed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from agent_monitor.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def test_demo_shows_live_calls_and_alerts(tmp_path: Path, eval_data: Path, settings: Settings) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "AGENT_MONITOR_DATA_DIR": str(tmp_path / "data")}
    cmd = [
        sys.executable,
        "-m",
        "agent_monitor",
        "demo",
        "--port",
        str(port),
        "--audiosocket-port",
        "off",
        "--calls",
        "1",
        "--rounds",
        "1",
        "--speed",
        "8",
        "--duration",  # the first violation and its alert come about 16 s in: the rest is not checked
        "25",
    ]
    done = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "SYNTHETIC" in done.stderr  # the scripted violations are labeled
    lines = done.stdout.splitlines()
    assert any(line.startswith("call started  demo-") for line in lines), done.stdout
    assert any(line.startswith("agent warning") and "idiot" in line for line in lines), done.stdout
    assert any(line.startswith("ALERT") for line in lines), done.stdout
    assert any(line.startswith("call ended") and " ended " in line for line in lines), done.stdout


def test_live_commands_refuse_bad_numbers_before_connecting(tmp_path: Path, eval_data: Path) -> None:
    """A number that cannot be meant is refused in one line before a server is started or reached
    (``demo --calls 0`` used to start a server and stream nothing; ``replay --start`` past the end
    connected and sent an empty call; ``--speed nan`` failed somewhere inside)."""
    env = {**os.environ, "AGENT_MONITOR_DATA_DIR": str(tmp_path / "data")}
    call_file = str(eval_data / "calls" / "spokenwoz" / "MUL1011.opus")
    replay = ["replay", call_file, "--server", "http://127.0.0.1:9"]
    cases = [
        (["demo", "--calls", "0"], "--calls 0: must be a finite number at least 1"),
        # 100000 hashed a password for each agent user (0.3 s each: hours), deaf to SIGTERM and Ctrl-C
        (["demo", "--calls", "100000"], "--calls 100000: at most 100 ("),
        (["demo", "--rounds", "-1"], "--rounds -1: must be a finite number at least 0"),
        (["demo", "--speed", "nan"], "--speed nan: must be a finite number above 0"),
        (["demo", "--duration", "0"], "--duration 0: must be a finite number above 0"),
        ([*replay, "--speed", "0"], "--speed 0: must be a finite number above 0"),
        ([*replay, "--start", "-2"], "--start -2: must be a finite number at least 0"),
        ([*replay, "--duration", "inf"], "--duration inf: must be a finite number above 0"),
        ([*replay, "--start", "9999"], f"--start 9999: {call_file} is "),
    ]
    for args, message in cases:
        done = subprocess.run(
            [sys.executable, "-m", "agent_monitor", *args],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1, (args, done.stderr)
        assert done.stderr.strip().startswith(f"agent-monitor: error: {message}"), (args, done.stderr)
        assert "serving" not in done.stderr and "cannot connect" not in done.stderr
        assert "\n" not in done.stderr.strip(), (args, done.stderr)  # one line
