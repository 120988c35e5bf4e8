"""Transcribe recorded files through the same VAD-gated streaming path the live pipeline uses."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agent_monitor.audio.decode import ChannelMap, RawFormat, decode_file, split_legs
from agent_monitor.event_loops import run
from agent_monitor.model.audio import BYTES_PER_SAMPLE, Leg
from agent_monitor.model.transcript import Transcript
from agent_monitor.settings import Settings
from asr.streaming import LegTranscriber, RecognizerPool

#: audio is pushed through the pipeline in chunks of this many seconds
CHUNK_S = 0.5


@dataclass(frozen=True, slots=True)
class FileTranscript:
    """All final transcripts of one file, both legs, ordered by start time."""

    path: Path
    duration: float
    transcripts: tuple[Transcript, ...]


async def transcribe_legs(
    pool: RecognizerPool,
    settings: Settings,
    legs: dict[Leg, bytes],
    *,
    progress: Callable[[float], None] | None = None,
) -> list[Transcript]:
    """Run every leg concurrently through VAD + Vosk; return the finals in time order (with the
    wordless ones: speech Vosk made no word of, see :class:`Transcript`)."""
    chunk = int(CHUNK_S * settings.asr.sample_rate) * BYTES_PER_SAMPLE

    async def run_leg(leg: Leg, pcm: bytes) -> list[Transcript]:
        lt = LegTranscriber(pool, settings, leg, partials=False)
        finals: list[Transcript] = []
        for i in range(0, len(pcm), chunk):
            finals.extend(await lt.feed(pcm[i : i + chunk]))
            if progress is not None:
                progress(min(len(pcm), i + chunk) / BYTES_PER_SAMPLE / settings.asr.sample_rate)
        finals.extend(await lt.close())
        return [t for t in finals if t.final]

    results = await asyncio.gather(*(run_leg(leg, pcm) for leg, pcm in legs.items()))
    return sorted((t for leg_results in results for t in leg_results), key=lambda t: (t.start, t.leg))


def transcribe_file(
    pool: RecognizerPool,
    settings: Settings,
    path: Path,
    *,
    channel_map: ChannelMap | None = None,
    raw: RawFormat | None = None,
    progress: Callable[[float], None] | None = None,
) -> FileTranscript:
    """Decode ``path`` and transcribe its legs (blocking; runs its own event loop)."""
    audio = decode_file(path, target_rate=settings.asr.sample_rate, raw=raw)
    legs = split_legs(audio, channel_map, settings.asr.agent_channel)
    transcripts = run(transcribe_legs(pool, settings, legs, progress=progress))
    worded = tuple(t for t in transcripts if not t.wordless)
    return FileTranscript(path=path, duration=audio.duration, transcripts=worded)
