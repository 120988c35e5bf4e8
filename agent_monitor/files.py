"""Writing a file whole or not at all.

A model, a report or an anchors file written in place is cut short by a Ctrl-C, a SIGTERM, a full
disk or a crash in the middle of the write, and the next reader (the server loading its stress
model, ``db verify --anchors``) finds a part of it. :func:`write_atomic` writes next to the file,
flushes to disk and renames over it, so a reader finds the old file or the whole new one. A file
written in a stream (the word log of ``eval asr --words-out``) goes through
:func:`flush_to_disk` before its own rename.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import IO, Any


def write_atomic(path: Path, data: str | bytes) -> None:
    """Put ``data`` (text as UTF-8) in ``path`` whole, or leave ``path`` as it was.

    The temporary file lies in the same folder (a rename within one file system is atomic), is
    created with the process's umask like a plain write, and is removed when the write fails;
    the folder is created when missing."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with tmp.open("xb") as out:
            out.write(raw)
            flush_to_disk(out)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def flush_to_disk(out: IO[Any]) -> None:
    """Flush ``out`` (Python's buffer, then the kernel's) to disk: before a file written beside its
    destination is renamed over it, or a crash soon after the rename can leave the destination
    empty or short (the rename may reach the disk before the data)."""
    out.flush()
    os.fsync(out.fileno())


def check_output(path: Path, what: str) -> None:
    """Refuse, before a long run, an output file that :func:`write_atomic` could not put in place:
    a folder at ``path``, a folder for it that cannot be created or written. ``rules train --out
    DIR`` trained for minutes, then lost the model to a traceback. :class:`ConfigError` naming
    ``what`` (the option) and the reason."""
    from agent_monitor.errors import ConfigError

    if path.is_dir():
        raise ConfigError(f"{what} {path}: is a folder; give a file name")
    probe = path.with_name(f".{path.name}.{secrets.token_hex(4)}.probe")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        probe.open("xb").close()
    except OSError as exc:
        said = f"{exc.strerror}: {exc.filename}" if exc.strerror and exc.filename else str(exc)
        raise ConfigError(f"{what} {path}: cannot write there ({said})") from exc
    probe.unlink(missing_ok=True)
