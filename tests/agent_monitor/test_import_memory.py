"""The server's imports leave SciPy out (``scipy.signal`` alone costs about 76 MiB per process), and a
server without a Chinese model leaves jieba out (~116 MiB)."""

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


START = """
import sys
from agent_monitor.compose import build_stages, preflight
from agent_monitor.settings import Settings
from qa_rules.live import LiveRules
settings = Settings()
assert "zh" in settings.asr.models and "zh" not in preflight(settings).split(";")[0]
print("jieba" in sys.modules)
build_stages(settings).close()  # the models and rules a server starts with
print("jieba" in sys.modules)
LiveRules.from_settings(settings)  # every language's examples, as `rules lint` checks them
print("jieba" in sys.modules)
"""


def test_a_server_without_a_chinese_model_does_not_load_the_chinese_segmenter() -> None:
    """The rule examples checked at start are those of the languages transcribed here: a server with
    no Chinese model never runs Chinese rules live, and jieba's dictionary costs ~116 MiB."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", START], cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False", "False", "True"], done.stdout
