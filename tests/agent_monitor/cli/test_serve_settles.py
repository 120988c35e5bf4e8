"""Ctrl-C pressed twice into ``serve`` while it has a live call (agent_monitor/cli/settling.py).

uvicorn took the second Ctrl-C as "force quit" and skipped the application's shutdown: the call
being streamed stayed ``live`` in the database, its recordings unsealed. The real CLI in a child
process, the real model, a real recorded call replayed into it by ``agent-monitor replay``, and
SQLite; ``db verify`` judges the recordings."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from agent_monitor.cli.settling import SETTLING
from tests.agent_monitor.cli.test_stopping import REPO, _rows, _start, _when
from tests.web.server_process import free_port


def _up(port: int) -> bool:
    import httpx

    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_ctrl_c_pressed_again_while_serve_stops_still_settles_its_call(
    eval_data: Path, tmp_path: Path
) -> None:
    data, db = tmp_path / "data", tmp_path / "data" / "agent-monitor.db"
    port = free_port()
    env = {
        "AGENT_MONITOR_SERVER__PORT": str(port),
        "AGENT_MONITOR_SERVER__AUDIOSOCKET_PORT": str(free_port()),
        "AGENT_MONITOR_ASR__SPARE_RECOGNIZERS": "0",
        "AGENT_MONITOR_SERVER__WORKERS": "0",
    }
    proc = _start(data, "serve", env=env)
    replay: subprocess.Popen[str] | None = None
    try:
        _when(lambda: _up(port), proc)
        call = eval_data / "calls" / "spokenwoz" / "MUL1011.opus"
        replay = _start(
            data, "replay", call, "--server", f"http://127.0.0.1:{port}", "--call-id", "twice", env=env
        )
        _when(lambda: bool(_rows(db, "SELECT 1 FROM utterances WHERE call_id = 'twice'")), proc)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.05)  # pressed again before the server has settled the call
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()  # a server that did not stop (nothing where it did)
        proc.wait()
        if replay is not None:
            replay.kill()
            replay.communicate()
    assert proc.returncode == 130, err
    assert err.strip().endswith("agent-monitor: interrupted") and "Traceback" not in err, err
    assert SETTLING.strip() in err, err
    assert _rows(db, "SELECT status FROM calls WHERE id = 'twice'") == [("aborted",)]  # was 'live'
    verify = subprocess.run(
        [sys.executable, "-m", "agent_monitor", "db", "verify"],
        env={**os.environ, "PYTHONPATH": str(REPO), "AGENT_MONITOR_DATA_DIR": str(data)},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
