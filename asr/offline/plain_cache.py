"""A disk cache of plain whole-file Vosk transcripts, for repeated evaluation runs.

Plain Vosk on a degraded clip depends only on the model and the audio, not on the VAD settings
being tuned, so a tuning run can skip it after the first run. The key is the model's name and a
SHA-256 of the audio; the value is the transcript text.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


class PlainCache:
    """Transcripts under ``root`` (created on first write), one small text file per clip."""

    def __init__(self, root: Path, model_name: str) -> None:
        self.root = root
        self.model_name = model_name
        self.hits = 0

    def _path(self, pcm: bytes, rate: int) -> Path:
        h = hashlib.sha256(f"{self.model_name}\0{rate}\0".encode())
        h.update(pcm)
        return self.root / f"{h.hexdigest()}.txt"

    def get(self, pcm: bytes, rate: int) -> str | None:
        path = self._path(pcm, rate)
        if not path.is_file():
            return None
        self.hits += 1
        return path.read_text(encoding="utf-8")

    def put(self, pcm: bytes, rate: int, text: str) -> None:
        path = self._path(pcm, rate)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
