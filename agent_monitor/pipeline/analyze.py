"""Analyse a recorded call through the live pipeline: the same sessions, fed from a file.

The file is decoded and resampled to ``settings.asr.sample_rate`` (16-bit PCM), split into legs
(stereo: ``settings.asr.agent_channel`` is the agent; mono: the agent leg only) and fed to a
:class:`CallSession` as fast as recognition allows (``push_audio_wait``: back-pressure instead
of the live path's dropping), in 0.5 s chunks alternating between the legs. The call is stored
like a live one (source ``file``), so its report comes from the database.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from agent_monitor.audio.decode import ChannelMap, decode_file, split_legs
from agent_monitor.model.audio import BYTES_PER_SAMPLE, Leg
from agent_monitor.model.session import CallInfo
from agent_monitor.pipeline.manager import CallManager
from agent_monitor.pipeline.report import CallReport, build_report

#: seconds of audio per push while feeding a file
FEED_CHUNK_S = 0.5


@dataclass(frozen=True, slots=True)
class AnalyzeResult:
    report: CallReport
    #: wall-clock seconds the analysis took, and the audio it covered
    elapsed_s: float
    audio_s: float


def file_call_id(path: Path, now: datetime) -> str:
    """A fresh call id for an analysed file: its name, a hash of the path and the time."""
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:6]
    return f"file-{path.stem[:40]}-{digest}-{now.strftime('%Y%m%dT%H%M%S%f')}"


async def feed_legs(manager: CallManager, info: CallInfo, legs: dict[Leg, bytes]) -> None:
    """Start a call, feed every leg's PCM (at ``info.sample_rate``) and stop it with ``end of file``."""
    session = await manager.start_call(info)
    step = max(1, int(FEED_CHUNK_S * info.sample_rate)) * BYTES_PER_SAMPLE
    longest = max((len(p) for p in legs.values()), default=0)
    try:
        for offset in range(0, longest, step):
            for leg, pcm in legs.items():
                chunk = pcm[offset : offset + step]
                if chunk:
                    await session.push_audio_wait(leg, chunk)
    except BaseException:
        await session.stop("analysis interrupted")
        raise
    await session.stop("end of file")


async def analyze_file(
    manager: CallManager,
    path: Path,
    *,
    call_id: str | None = None,
    agent_id: str = "unknown",
    lang: str = "en",
    channel_map: ChannelMap | None = None,
) -> AnalyzeResult:
    """Decode ``path``, run it through ``manager`` as a call, and return the stored report;
    ``channel_map`` says which channel is which leg (needed past 2 channels)."""
    settings = manager.settings
    rate = settings.asr.sample_rate
    audio = await asyncio.to_thread(decode_file, path, target_rate=rate)
    legs = split_legs(audio, channel_map, settings.asr.agent_channel)
    now = datetime.now(UTC)
    info = CallInfo(
        call_id=call_id or file_call_id(path, now),
        agent_id=agent_id,
        lang=lang,
        source="file",
        sample_rate=rate,
        encoding="L16",
        started_at=now,
    )
    started = time.perf_counter()
    await feed_legs(manager, info, legs)
    elapsed = time.perf_counter() - started

    def read() -> CallReport:
        with manager.db.session() as s:
            return build_report(s, info.call_id)

    report = await asyncio.to_thread(read)
    return AnalyzeResult(report=report, elapsed_s=elapsed, audio_s=audio.duration)
