"""One server per data directory: an exclusive lock on ``DATA_DIR/agent-monitor.lock``.

A server takes the lock before it touches the database (marking calls left ``live`` by a crash
as aborted would otherwise abort the calls of a server still running on that directory). The lock
is an ``flock`` on the open file, so the kernel releases it when the process ends however it
ends; the file holds the owner's process id for the error message. Within one process the lock
is counted (``serve`` takes it before uvicorn starts, the application again when it starts).
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

from agent_monitor.errors import DataDirInUseError

LOCK_NAME = "agent-monitor.lock"

_held: dict[Path, tuple[int, int]] = {}  # lock file -> (fd, count)
_guard = threading.Lock()


class DataDirLock:
    """``with DataDirLock(data_dir):`` or :meth:`acquire` / :meth:`release` (counted per process)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = (Path(data_dir) / LOCK_NAME).resolve()
        self.acquired = False

    def acquire(self) -> DataDirLock:
        with _guard:
            fd, count = _held.get(self.path, (-1, 0))
            if count == 0:
                fd = self._lock()
            _held[self.path] = (fd, count + 1)
        self.acquired = True
        return self

    def _lock(self) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise DataDirInUseError(
                f"data directory {self.path.parent} is in use by another agent-monitor server "
                f"(process {owner}); stop it or use another data_dir"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return fd

    def release(self) -> None:
        if not self.acquired:
            return
        self.acquired = False
        with _guard:
            fd, count = _held.pop(self.path, (-1, 0))
            if count > 1:
                _held[self.path] = (fd, count - 1)
            elif fd >= 0:
                os.close(fd)  # closing the descriptor drops the flock

    def __enter__(self) -> DataDirLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
