"""Audio input of a session: L16/mu-law decoding and the per-leg inbox overflow policy."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np
import pytest

from agent_monitor.audio.g711 import mulaw_decode, mulaw_encode
from agent_monitor.pipeline.audio_in import AudioDecoder, Chunk, LegInbox, Resampler


def test_l16_odd_bytes_are_carried_to_the_next_chunk() -> None:
    dec = AudioDecoder("L16")
    data = np.arange(-500, 500, dtype="<i2").tobytes()
    out = dec.decode(data[:3]) + dec.decode(data[3:1001]) + dec.decode(data[1001:])
    assert out == data


def test_mulaw_is_decoded_to_l16_at_the_received_rate() -> None:
    x = (np.sin(np.arange(800) / 5) * 8000).astype(np.int16)
    ulaw = mulaw_encode(x)
    out = AudioDecoder("mulaw").decode(ulaw)
    assert len(out) == 2 * len(ulaw)
    assert out == mulaw_decode(ulaw).astype("<i2").tobytes()


def test_resampler_streams_8k_to_16k() -> None:
    r = Resampler(8000, 16000)
    pcm = (np.sin(np.arange(8000) / 3) * 5000).astype("<i2").tobytes()
    out = b"".join(r.push(pcm[i : i + 320]) for i in range(0, len(pcm), 320)) + r.push(b"", last=True)
    assert abs(len(out) // 2 - 16000) <= 2


@pytest.mark.asyncio
async def test_full_inbox_drops_counts_and_keeps_the_clock_with_a_gap() -> None:
    inbox = LegInbox(8000, max_seconds=1.0)
    chunk = bytes(1600)  # 0.1 s
    accepted = [inbox.put_nowait(chunk) for _ in range(15)]
    assert accepted == [True] * 10 + [False] * 5
    assert inbox.dropped_chunks == 5 and inbox.dropped_samples == 4000
    assert inbox.received_samples == 15 * 800
    inbox.close()
    items = []
    while (item := await inbox.get()) is not None:
        items.append(item)
    # queued frames are merged into batches of at most 1 s; the drops merge into one gap
    assert [(i.gap, i.samples) for i in items] == [(False, 8000), (True, 4000)]
    assert sum(i.samples for i in items) == 15 * 800  # nothing lost from the call clock


@pytest.mark.asyncio
async def test_worker_is_woken_once_a_batch_is_queued_not_per_frame() -> None:
    """20 ms frames: the worker's task is woken once 0.1 s has gathered (or a gap or the end
    comes), not for every frame (a task switch per frame costs the event loop for nothing)."""
    inbox = LegInbox(8000, max_seconds=10.0)

    async def worker() -> list[int]:
        return [chunk.samples async for chunk in _chunks(inbox)]

    task = asyncio.create_task(worker())
    frame = bytes(320)  # 20 ms at 8 kHz
    wakes = []
    for _ in range(12):
        inbox.put_nowait(frame)
        wakes.append(inbox._wakeup.is_set())  # the worker's wake-up, before it can run
        for _ in range(3):
            await asyncio.sleep(0)
    assert wakes == [False] * 4 + [True] + [False] * 4 + [True] + [False] * 2
    inbox.close()
    assert await task == [800, 800, 320]


async def _chunks(inbox: LegInbox) -> AsyncIterator[Chunk]:
    while (chunk := await inbox.get()) is not None:
        yield chunk
