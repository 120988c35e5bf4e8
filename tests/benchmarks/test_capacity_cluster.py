"""The nodes part pins this process and redis-server to the nodes' cores, and restores them."""

from __future__ import annotations

import os
import subprocess
import sys

from benchmarks.capacity.cluster import pinned
from benchmarks.capacity.server import tree_cpu_s


def test_pinned_moves_this_thread_and_the_given_processes_and_restores_them() -> None:
    before = os.sched_getaffinity(0)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with pinned(["0"], [child.pid]):
            assert os.sched_getaffinity(0) == {0}
            assert os.sched_getaffinity(child.pid) == {0}
            grandchild = subprocess.run(
                [sys.executable, "-c", "import os; print(sorted(os.sched_getaffinity(0)))"],
                capture_output=True,
                text=True,
                check=True,
            )
            assert grandchild.stdout.strip() == "[0]"  # what it starts inherits the cores
        assert os.sched_getaffinity(0) == before
        assert os.sched_getaffinity(child.pid) == before
        assert tree_cpu_s(child.pid) >= 0.0
    finally:
        child.kill()
        child.wait()
