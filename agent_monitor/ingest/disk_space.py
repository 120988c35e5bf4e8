"""Disk space of the data directory, as the ingest edge sees it.

A recording that cannot be written because the disk (or the quota, or the file size limit) is
exhausted must end that call cleanly with the reason ``disk full`` rather than a bare server
error, new calls must be refused with the same reason while it lasts, and ``/healthz`` must say
so. :class:`DiskWatch` keeps that state: the free space of ``data_dir`` (checked at most once a
second) and the last write that failed for lack of space.
"""

from __future__ import annotations

import errno
import shutil
import time
from pathlib import Path

#: errors that mean "no room to write": disk full, quota exceeded, file size limit reached
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
#: after a failed write, new calls are refused for this long (seconds) even if space reappears
FAILURE_HOLD_S = 30.0


def disk_full_cause(exc: BaseException) -> OSError | None:
    """The :class:`OSError` behind ``exc`` (itself or a cause) that says the disk is full, if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in DISK_FULL_ERRNOS:
            return current
        current = current.__cause__ or current.__context__
    return None


class DiskWatch:
    """Free space of ``data_dir`` and recent disk-full failures (see the module documentation)."""

    def __init__(self, data_dir: Path, min_free_mb: int) -> None:
        self.data_dir = data_dir
        self.min_free_bytes = min_free_mb * 1024 * 1024
        self._free: int | None = None
        self._checked = 0.0
        self._failed_at: float | None = None
        self._failure = ""

    def free_bytes(self) -> int:
        now = time.monotonic()
        if self._free is None or now - self._checked >= 1.0:
            try:
                self._free = shutil.disk_usage(self.data_dir).free
            except OSError:
                self._free = 0
            self._checked = now
        return self._free

    def failed(self, problem: str) -> None:
        """A write failed for lack of space."""
        self._failed_at, self._failure = time.monotonic(), problem

    def problem(self) -> str | None:
        """Why the disk counts as full now (``None``: it does not)."""
        if self._failed_at is not None and time.monotonic() - self._failed_at < FAILURE_HOLD_S:
            return f"disk full: {self._failure}"
        free = self.free_bytes()
        if free < self.min_free_bytes:
            return (
                f"disk full: {free // (1024 * 1024)} MB free in {self.data_dir}, "
                f"{self.min_free_bytes // (1024 * 1024)} MB needed"
            )
        return None
