"""Audio entering a call session: decoding to L16, resampling, and the bounded per-leg inbox.

**Decoding.** ``L16`` bytes are taken as they are (an odd trailing byte waits for the next chunk);
``mulaw`` and ``alaw`` bytes are decoded to 16-bit PCM at the received rate (G.711 tables). The recording of a
leg stores this L16 at the received rate, so for L16 input it equals the bytes sent and for
G.711 input it equals them after decoding.

**Inbox overflow policy.** Each leg's inbox holds at most ``settings.live.leg_queue_s`` seconds
of audio waiting for recognition. A chunk that does not fit is dropped (the recording already
has it) and counted; in its place a *gap* marker of the same duration is queued, and the leg
worker feeds that much silence (cheap: the VAD passes no silence to Vosk), so the call clock of
later audio stays right. Pushing never blocks; :meth:`LegInbox.put_wait` (for file analysis)
waits for room instead of dropping.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass

import numpy as np

from agent_monitor.audio.g711 import alaw_decode_l16, mulaw_decode_l16
from agent_monitor.model.audio import BYTES_PER_SAMPLE


class AudioDecoder:
    """Bytes in the call's encoding -> 16-bit PCM at the received rate (keeps partial samples)."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._carry = b""

    def decode(self, data: bytes) -> bytes:
        if self.encoding == "mulaw":
            return mulaw_decode_l16(data)
        if self.encoding == "alaw":
            return alaw_decode_l16(data)
        if self._carry:
            data = self._carry + data
            self._carry = b""
        if len(data) % BYTES_PER_SAMPLE:
            self._carry = data[-1:]
            data = data[:-1]
        return data


class Resampler:
    """Streaming 16-bit PCM resampler (soxr); identity when the rates agree."""

    def __init__(self, from_rate: int, to_rate: int) -> None:
        self.from_rate = from_rate
        self.to_rate = to_rate
        self._stream = None
        if from_rate != to_rate:
            import soxr

            self._stream = soxr.ResampleStream(from_rate, to_rate, 1, dtype="int16", quality="HQ")

    def push(self, pcm: bytes, last: bool = False) -> bytes:
        if self._stream is None:
            return pcm
        x = np.frombuffer(pcm, dtype="<i2")
        y = self._stream.resample_chunk(x, last=last)
        return np.asarray(y, dtype="<i2").tobytes()


@dataclass(frozen=True, slots=True)
class Chunk:
    """Queued audio of one leg (L16 at the received rate), or a gap of ``samples`` dropped samples."""

    pcm: bytes | None
    samples: int

    @property
    def gap(self) -> bool:
        return self.pcm is None


#: a leg worker takes at least this much queued audio at once (unless a gap or the end comes first)
MIN_BATCH_S = 0.1
#: ... and at most this much
MAX_BATCH_S = 1.0


class LegInbox:
    """The bounded queue between ``push_audio`` and a leg worker (see the module documentation)."""

    def __init__(self, sample_rate: int, max_seconds: float) -> None:
        self.sample_rate = sample_rate
        self.max_samples = max(1, int(max_seconds * sample_rate))
        self.min_batch = int(MIN_BATCH_S * sample_rate)
        self._items: deque[Chunk] = deque()
        self._queued = 0  # samples of real audio queued
        self._wakeup = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self.closed = False
        self.received_samples = 0
        self.dropped_chunks = 0
        self.dropped_samples = 0

    @property
    def queued_samples(self) -> int:
        return self._queued

    def put_nowait(self, pcm: bytes) -> bool:
        """Queue audio; returns False when it was dropped (inbox full; a gap is queued instead)."""
        n = len(pcm) // BYTES_PER_SAMPLE
        if not n:
            return True
        self.received_samples += n
        if self._queued + n > self.max_samples:
            self.dropped_chunks += 1
            self.dropped_samples += n
            last = self._items[-1] if self._items else None
            if last is not None and last.gap:
                self._items[-1] = Chunk(None, last.samples + n)
            else:
                self._items.append(Chunk(None, n))
            self._wakeup.set()
            return False
        self._items.append(Chunk(pcm, n))
        self._queued += n
        if self._queued >= self.max_samples:
            self._room.clear()
        if self._queued >= self.min_batch:
            # the worker waits for a batch: waking it for every 20 ms frame would cost a task
            # switch per frame for nothing (a gap, the end and a full batch still wake it)
            self._wakeup.set()
        return True

    def count_dropped(self, samples: int) -> None:
        """Count audio that never reached the inbox (a gap longer than the inbox) as dropped."""
        if samples > 0:
            self.dropped_chunks += 1
            self.dropped_samples += samples

    async def put_wait(self, pcm: bytes) -> None:
        """Queue audio, waiting for room instead of dropping (file analysis: back-pressure)."""
        n = len(pcm) // BYTES_PER_SAMPLE
        while self._queued and self._queued + n > self.max_samples and not self.closed:
            self._room.clear()
            await self._room.wait()
        if self._queued + n > self.max_samples:  # a chunk larger than the inbox: let it in alone
            self.received_samples += n
            self._items.append(Chunk(pcm, n))
            self._queued += n
            self._wakeup.set()
            return
        self.put_nowait(pcm)

    async def get(self) -> Chunk | None:
        """The next batch of audio, or ``None`` once the inbox is closed and empty.

        Consecutive audio chunks are merged (up to ``MAX_BATCH_S``), and a batch waits until at
        least ``MIN_BATCH_S`` is queued (or a gap or the end arrives): live feeds send 20 ms
        frames, and one recognizer/stress/rules round per frame costs more in thread hand-offs than
        the audio itself (measured: 4 concurrent calls kept up per-frame, see benchmarks).
        """
        min_batch = self.min_batch
        while not self._ready(min_batch):
            if self.closed and not self._items:
                return None
            self._wakeup.clear()
            await self._wakeup.wait()
        item = self._items.popleft()
        if not item.gap:
            parts, n = [item.pcm or b""], item.samples
            limit = int(MAX_BATCH_S * self.sample_rate)
            while self._items and not self._items[0].gap and n + self._items[0].samples <= limit:
                nxt = self._items.popleft()
                parts.append(nxt.pcm or b"")
                n += nxt.samples
            item = Chunk(b"".join(parts), n)
            self._queued -= n
            if self._queued < self.max_samples:
                self._room.set()
        return item

    def _ready(self, min_batch: int) -> bool:
        if not self._items:
            return False
        return (
            self.closed or self._items[0].gap or self._queued >= min_batch or any(c.gap for c in self._items)
        )

    def close(self) -> None:
        """No more audio; the worker drains what is queued, then ``get`` returns ``None``."""
        self.closed = True
        self._wakeup.set()
        self._room.set()
