"""The server's imports leave SciPy out: ``scipy.signal`` alone costs about 76 MiB per process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import sys
import numpy as np
import agent_monitor.cli, agent_monitor.compose
from emotion.features import syllable_nuclei
from emotion.frames import Frames
from emotion.peaks import find_peaks
assert find_peaks(np.array([0.0, 3.0, 0.0, 5.0, 0.0]), 2.0, 1).tolist() == [1, 3]
print(sorted(m for m in sys.modules if m == "scipy" or m.startswith("scipy.")))
"""


def test_the_server_and_the_syllable_count_import_no_scipy() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
