"""The disk-space state the ingest edge keeps (issue #15 item 5)."""

from __future__ import annotations

import errno
from pathlib import Path

from agent_monitor.errors import RecordingError
from agent_monitor.ingest.disk_space import DiskWatch, disk_full_cause


def test_free_space_below_the_minimum_counts_as_full(tmp_path: Path) -> None:
    assert DiskWatch(tmp_path, min_free_mb=0).problem() is None
    problem = DiskWatch(tmp_path, min_free_mb=10**12).problem()
    assert problem is not None and problem.startswith("disk full:") and "MB free" in problem


def test_a_failed_write_counts_as_full_for_a_while(tmp_path: Path) -> None:
    watch = DiskWatch(tmp_path, min_free_mb=0)
    watch.failed("No space left on device")
    assert watch.problem() == "disk full: No space left on device"


def test_disk_full_is_found_behind_a_recording_error() -> None:
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as exc:
            raise RecordingError("x.wav: cannot write recording") from exc
    except RecordingError as wrapped:
        found = disk_full_cause(wrapped)
    assert found is not None and found.errno == errno.ENOSPC
    assert disk_full_cause(RecordingError("x.wav: not a WAV recording")) is None
    assert disk_full_cause(OSError(errno.EACCES, "Permission denied")) is None
