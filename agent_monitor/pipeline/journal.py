"""The outbox journal: a call's database writes spilled to disk while the database is unavailable.

One append-only file per call, ``data_dir/outbox/<recording key of the call id>.jsonl``, one JSON
line per :class:`~agent_monitor.pipeline.records.Write`: ``{"seq": N, "op": ..., "args": ...}``.
Arguments are encoded with type tags (data-model dataclasses, enums, times, tuples, paths) so they
come back as the same objects. Lines are handed to the operating system as they are written (a
crash of the process loses none; ``fsync`` at spill time guards against power loss). A torn last
line (the process died mid-write) is ignored when reading.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

from agent_monitor.errors import StorageError
from agent_monitor.model.audio import Leg
from agent_monitor.model.health import HealthIssue, LegHealth
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.rules import HitStatus, RuleHit, Severity
from agent_monitor.model.session import LevelReason
from agent_monitor.model.stress import BaselineStatus, StressLevel, StressSample
from agent_monitor.model.transcript import Transcript, Word
from agent_monitor.pipeline.records import Write
from agent_monitor.storage import CallStatus
from agent_monitor.storage.recordings import RecordingInfo, recording_key

log = logging.getLogger(__name__)

_DATACLASSES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (Transcript, Word, RuleHit, LevelReason, StressSample, RecordingInfo, LegHealth)
}
_ENUMS: dict[str, type[Enum]] = {
    cls.__name__: cls
    for cls in (
        Leg,
        Severity,
        HitStatus,
        WarningLevel,
        StressLevel,
        BaselineStatus,
        CallStatus,
        HealthIssue,
    )
}


def _encode(value: Any) -> Any:
    if isinstance(value, Enum):
        return {"$enum": type(value).__name__, "v": value.value}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"$dc": type(value).__name__, "f": fields}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, Path):
        return {"$path": str(value)}
    if isinstance(value, tuple):
        return {"$tuple": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {"$dict": {str(k): _encode(v) for k, v in value.items()}}
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if hasattr(value, "item"):  # numpy scalars
        return _encode(value.item())
    raise TypeError(f"cannot journal a {type(value).__name__}")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "$enum" in value:
        return _ENUMS[value["$enum"]](value["v"])
    if "$dc" in value:
        return _DATACLASSES[value["$dc"]](**{k: _decode(v) for k, v in value["f"].items()})
    if "$dt" in value:
        return datetime.fromisoformat(value["$dt"])
    if "$path" in value:
        return Path(value["$path"])
    if "$tuple" in value:
        return tuple(_decode(v) for v in value["$tuple"])
    if "$dict" in value:
        return {k: _decode(v) for k, v in value["$dict"].items()}
    raise ValueError(f"unknown journal value {sorted(value)}")


def encode_write(seq: int, write: Write) -> str:
    doc = {"seq": seq, "op": write.op, "args": {k: _encode(v) for k, v in write.args.items()}}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def decode_write(line: str) -> tuple[int, Write]:
    doc = json.loads(line)
    return int(doc["seq"]), Write(str(doc["op"]), {k: _decode(v) for k, v in doc["args"].items()})


def journal_path(journal_dir: Path, call_id: str) -> Path:
    return journal_dir / f"{recording_key(call_id)}.jsonl"


class Journal:
    """The append-only journal file of one call (see the module documentation)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, entries: Iterable[tuple[int, Write]], *, sync: bool = False) -> None:
        data = "".join(encode_write(seq, w) + "\n" for seq, w in entries).encode("utf-8")
        if not data:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                if sync:
                    os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise StorageError(
                f"{self.path}: cannot write the outbox journal: {exc.strerror or exc}"
            ) from exc

    def read(self, offset: int = 0) -> tuple[list[tuple[int, Write]], int]:
        """The complete entries from byte ``offset`` on, and the offset after the last of them."""
        try:
            with self.path.open("rb") as f:
                f.seek(offset)
                data = f.read()
        except FileNotFoundError:
            return [], offset
        except OSError as exc:
            raise StorageError(f"{self.path}: cannot read the outbox journal: {exc.strerror or exc}") from exc
        entries: list[tuple[int, Write]] = []
        consumed = 0
        for raw in data.splitlines(keepends=True):
            if not raw.endswith(b"\n"):
                break  # torn or still being written
            consumed += len(raw)
            try:
                entries.append(decode_write(raw.decode("utf-8")))
            except (ValueError, KeyError, TypeError) as exc:
                log.error("%s: unreadable journal line skipped: %s", self.path, exc)
        return entries, offset + consumed

    def exists(self) -> bool:
        return self.path.exists()

    def remove(self) -> None:
        try:
            self.path.unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(
                f"{self.path}: cannot remove the outbox journal: {exc.strerror or exc}"
            ) from exc
