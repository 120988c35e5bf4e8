"""A Python script run in a child process with the repository importable: for what a test cannot
do in its own process (a program's signals, its exit)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_python(script: str, *, data_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``script`` (``python -c``) to its end, within a minute; its output as text.
    ``data_dir``: the program's data directory (``AGENT_MONITOR_DATA_DIR``)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if data_dir is not None:
        env["AGENT_MONITOR_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60, check=False
    )
