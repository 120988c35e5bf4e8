"""A disk cache of plain whole-file Vosk transcripts, for repeated evaluation runs.

Plain Vosk on a degraded clip depends only on the model (with its decoder and dither options),
the audio and the dither draw's seed (:mod:`asr.offline.draws`), not on the VAD settings being
tuned, so a tuning run can skip it after the first run. A cached transcript is the one that seed
gives again, so the cache keeps every draw of the comparison, never one draw for all. The key is a
SHA-256 of the model's key (name, decoder options, graph), the rate, the seed and the audio; the
value is the transcript text.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from agent_monitor.files import write_atomic


class PlainCache:
    """Transcripts under ``root`` (created on first write), one small text file per clip."""

    def __init__(self, root: Path, model_key: str) -> None:
        self.root = root
        self.model_key = model_key
        self.hits = 0

    def _path(self, pcm: bytes, rate: int, seed: int) -> Path:
        h = hashlib.sha256(f"{self.model_key}\0{rate}\0{seed}\0".encode())
        h.update(pcm)
        return self.root / f"{h.hexdigest()}.txt"

    def get(self, pcm: bytes, rate: int, seed: int) -> str | None:
        path = self._path(pcm, rate, seed)
        if not path.is_file():
            return None
        self.hits += 1
        return path.read_text(encoding="utf-8")

    def put(self, pcm: bytes, rate: int, seed: int, text: str) -> None:
        write_atomic(self._path(pcm, rate, seed), text)
