"""Chain anchors written by the server itself, outside the database.

Someone who can write the database can cut the end off a chain and move ``chain_heads`` back to
match; only a copy of the heads kept elsewhere shows it. The server appends the heads of every
chain to ``data_dir/chain-anchors.jsonl`` (one JSON line per save: ``{"at": ISO time, "heads":
{chain: {"seq": N, "hash": H}}}``, fsynced) every ``server.anchor_every_s`` seconds when they
moved, and at shutdown (:class:`AnchorWriter`). ``agent-monitor db verify`` checks against the
newest line of that file when it exists (or the file given with ``--anchors``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from agent_monitor.errors import StorageError
from agent_monitor.storage.chain import Anchor, chain_anchors
from agent_monitor.strict_json import loads_strict

if TYPE_CHECKING:
    from agent_monitor.storage.engine import Database

ANCHOR_FILE = "chain-anchors.jsonl"
log = logging.getLogger(__name__)


def anchor_path(data_dir: Path) -> Path:
    return Path(data_dir) / ANCHOR_FILE


def append_anchors(path: Path, heads: Mapping[str, Anchor], at: datetime | None = None) -> None:
    """Append one line with ``heads`` to the anchor file and sync it to disk."""
    line = {
        "at": (at or datetime.now(UTC)).isoformat(),
        "heads": {name: {"seq": a.seq, "hash": a.hash} for name, a in sorted(heads.items())},
    }
    data = (json.dumps(line, separators=(",", ":")) + "\n").encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise StorageError(f"{path}: cannot write chain anchors: {exc.strerror or exc}") from exc


def read_latest_anchors(path: Path) -> dict[str, Anchor]:
    """The heads of the newest complete line of an anchor file (a torn last line is skipped)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise StorageError(f"{path}: cannot read chain anchors: {exc.strerror or exc}") from exc
    for i, text in enumerate(reversed(lines)):
        try:
            heads = loads_strict(text)["heads"]
            return {str(n): Anchor.parse(v) for n, v in heads.items()}
        except (ValueError, KeyError, TypeError, AttributeError):
            if i == 0:  # the server died while writing the last line
                continue
            raise StorageError(f"{path}: line {len(lines) - i} is not a chain-anchor record") from None
    raise StorageError(f"{path}: holds no chain anchors")


class AnchorWriter:
    """Saves the chain heads periodically and at :meth:`stop` (see the module documentation)."""

    def __init__(self, db: Database, path: Path, every_s: float) -> None:
        self.db = db
        self.path = path
        self.every_s = every_s
        self._last: dict[str, Anchor] | None = None
        self._task: asyncio.Task[None] | None = None

    def save_now(self) -> bool:
        """Save the heads if they moved since the last save (blocking); returns whether it did."""
        with self.db.session() as s:
            heads = chain_anchors(s)
        if heads == self._last:
            return False
        append_anchors(self.path, heads)
        self._last = heads
        return True

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="chain-anchors")

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.save_now)
            except Exception as exc:  # the database may be down: try again next time
                log.warning("chain anchors not saved: %s", exc)
            await asyncio.sleep(self.every_s)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await asyncio.to_thread(self.save_now)
        except Exception as exc:
            log.warning("chain anchors not saved at shutdown: %s", exc)
