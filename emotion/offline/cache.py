"""On-disk cache of clip features per (clip, line condition), so a grid is measured once.

A cached entry is keyed by the clip file (path, size, modification time), the condition's full
parameters and seed, and a hash of the source of every module that shapes the features (frames,
features, pitch, the condition simulator and the G.711 codec): editing any of them changes every
key, so a stale value is never read back. Entries are small ``.npy`` files (the feature row plus
the seconds of voiced speech; NaN when the clip had too little voiced speech under that condition).
A corpus's same-recording pairs (:mod:`emotion.offline.duplicates`) are kept the same way, keyed by
all its clip files (:meth:`FeatureCache.group_key`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from agent_monitor.audio.conditions import Condition
from emotion.pitch import FloatArray

#: modules whose source decides what a feature row is
_SOURCES = (
    "emotion/frames.py",
    "emotion/features.py",
    "emotion/pitch.py",
    "agent_monitor/audio/conditions.py",
    "agent_monitor/audio/g711.py",
)


@lru_cache(maxsize=1)
def code_version() -> str:
    """Hash of the feature-shaping source files (part of every cache key)."""
    root = Path(__file__).resolve().parents[2]  # the repository root
    digest = hashlib.sha256()
    for name in _SOURCES:
        digest.update((root / name).read_bytes())
    return digest.hexdigest()[:16]


class FeatureCache:
    """Feature rows of (clip, condition) under ``folder`` (created on first write)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def key(self, path: Path, condition: Condition, seed: str) -> str:
        st = path.stat()
        text = "\0".join(
            (
                code_version(),
                str(path.resolve()),
                str(st.st_size),
                str(st.st_mtime_ns),
                repr((condition.gain_db, condition.codec, condition.noise, condition.snr_db, condition.loss)),
                condition.line,
                seed,
            )
        )
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def group_key(self, tag: str, paths: Sequence[Path], extra: Sequence[str]) -> str:
        """Key of a value computed from several clip files (each path, size and modification time),
        ``tag`` (what it is, and the version of the code computing it) and ``extra`` strings."""
        digest = hashlib.sha256("\0".join((code_version(), tag, *extra)).encode())
        for path in paths:
            st = path.stat()
            digest.update(f"\0{path.resolve()}\0{st.st_size}\0{st.st_mtime_ns}".encode())
        return digest.hexdigest()[:32]

    def get(self, key: str) -> FloatArray | None:
        file = self.folder / key[:2] / f"{key}.npy"
        try:
            out: FloatArray = np.load(file)
        except (OSError, ValueError):
            return None
        return out

    def has(self, key: str) -> bool:
        """Is there an entry under ``key`` (without reading it)?"""
        return (self.folder / key[:2] / f"{key}.npy").is_file()

    def put(self, key: str, row: FloatArray) -> None:
        file = self.folder / key[:2] / f"{key}.npy"
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(tmp, np.asarray(row, dtype=np.float64))
        tmp.replace(file)
