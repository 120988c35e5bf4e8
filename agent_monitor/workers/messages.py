"""What the front process and a speech worker process say to each other (pickled, one per message).

The front sends requests, each with its number ``req``; the worker answers every request with one
:class:`Reply` carrying the same number (the value, or the error it raised). A worker's first
message is :class:`Ready` (its models loaded and its spare recognizers built) or :class:`Failed`.
Legs are named by a number the front chose (``key``), unique within one worker.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agent_monitor.model.audio import Leg
from agent_monitor.model.stages import MissingModel


@dataclass(frozen=True, slots=True)
class Open:
    """Open a leg's transcriber (see ``TranscriberFactory.transcriber``)."""

    req: int
    key: int
    lang: str
    leg: Leg
    t0: float
    first_utterance: int
    keywords: Sequence[str]


@dataclass(frozen=True, slots=True)
class Feed:
    """The leg's next audio (16-bit PCM at ``asr.sample_rate``); the reply: its transcripts."""

    req: int
    key: int
    pcm: bytes


@dataclass(frozen=True, slots=True)
class Close:
    """End of the leg's audio; the reply: the last transcripts."""

    req: int
    key: int


@dataclass(frozen=True, slots=True)
class Release:
    """The leg is gone: after :class:`Close` its recognizer goes back to the worker's spares
    (``reuse``); a leg abandoned unclosed (or whose close failed) is dropped with ``reuse=False``."""

    req: int
    key: int
    reuse: bool = True


Request = Open | Feed | Close | Release


@dataclass(frozen=True, slots=True)
class Reply:
    """The answer to request ``req``: ``value`` or, when the worker raised, ``error``."""

    req: int
    value: Any = None
    error: BaseException | None = None


@dataclass(frozen=True, slots=True)
class Ready:
    """The worker is up: the languages it transcribes, those it cannot (and why), its
    ``TranscriberFactory.to_dict`` and ``describe`` line."""

    pid: int
    languages: tuple[str, ...]
    missing: dict[str, MissingModel]
    summary: dict[str, Any]
    description: str


@dataclass(frozen=True, slots=True)
class Failed:
    """The worker could not start (its models failed to load): the one-line reason."""

    message: str
