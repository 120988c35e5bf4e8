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
    ]
    done = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "SYNTHETIC" in done.stderr  # the scripted violations are labeled
    lines = done.stdout.splitlines()
    assert any(line.startswith("call started  demo-") for line in lines), done.stdout
    assert any(line.startswith("agent warning") and "idiot" in line for line in lines), done.stdout
    assert any(line.startswith("ALERT") for line in lines), done.stdout
    assert any(line.startswith("call ended") and " ended " in line for line in lines), done.stdout
