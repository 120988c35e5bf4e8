"""The word log of ``agent-monitor eval asr --words-out FILE``: every decode, word by word.

One JSON line per folder, line condition, clip and dither draw: the reference words, plain Vosk's
words, the pipeline's final words each with Vosk's confidence (``[word, conf]``), and each of the
pipeline's finals as ``[seconds of VAD speech, words]`` (``utterances``; a final of no word is
speech the recognizer made nothing of; absent in logs written before session 23). It lets a
change that acts on the recognised words alone (for example dropping words under a confidence
floor: ``benchmarks/asr_conf_floor.py``) be measured on a grid that was decoded once, both sides
with the same dither draws. The file is written anew by every run, and only when the run is
complete (:class:`WordsLog`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from agent_monitor.errors import ConfigError
from agent_monitor.files import flush_to_disk


@dataclass(frozen=True, slots=True)
class Decode:
    """One logged decode of one clip (a line of the file)."""

    folder: str
    condition: str
    clip: str
    seed: int
    ref: list[str]
    plain: list[str]
    words: list[tuple[str, float]]
    utterances: list[tuple[float, int]] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Decode:
        return cls(
            folder=str(data["folder"]),
            condition=str(data["condition"]),
            clip=str(data["clip"]),
            seed=int(data["seed"]),
            ref=[str(w) for w in data["ref"]],
            plain=[str(w) for w in data["plain"]],
            words=[(str(w), float(c)) for w, c in data["words"]],
            utterances=[(float(s), int(n)) for s, n in data.get("utterances", [])],
        )


class WordsLog:
    """Appends :class:`Decode` lines to ``PATH.partial`` until :meth:`finish` puts the whole log
    at ``path`` (replacing the previous one); :meth:`close` before that removes the partial file, so
    an interrupted or failed run leaves the previous log as it was, never a shorter one that reads
    as complete."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.partial = path.with_name(path.name + ".partial")
        try:
            self._file: IO[str] = self.partial.open("w", encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"eval asr: cannot write the word log {path}: {exc}") from exc
        self._finished = False

    def finish(self) -> None:
        """Every decode is in: put the log in place, on disk before the rename (a crash or a power
        loss soon after it could otherwise leave an empty or short log at ``path``)."""
        flush_to_disk(self._file)
        self._file.close()
        self.partial.replace(self.path)
        self._finished = True

    def close(self) -> None:
        """Close; the log of an unfinished run is removed (nothing after :meth:`finish`)."""
        if self._finished:
            return
        self._file.close()
        self.partial.unlink(missing_ok=True)

    def add(self, decode: Decode) -> None:
        line = {
            "folder": decode.folder,
            "condition": decode.condition,
            "clip": decode.clip,
            "seed": decode.seed,
            "ref": decode.ref,
            "plain": decode.plain,
            "words": [[w, round(c, 4)] for w, c in decode.words],
            "utterances": [[round(s, 3), n] for s, n in decode.utterances],
        }
        self._file.write(json.dumps(line, ensure_ascii=False) + "\n")
        self._file.flush()


def read_log(path: Path) -> list[Decode]:
    """Every decode in a word log; a clear error for a file that is not one."""
    out: list[Decode] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read the word log {path}: {exc}") from exc
    for n, line in enumerate(lines, 1):
        try:
            out.append(Decode.from_json(json.loads(line)))
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{path}:{n}: not a word-log line ({exc})") from exc
    return out
