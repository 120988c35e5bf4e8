"""``agent-monitor capture``: an agent desktop's headset microphone and call audio as two legs.

Two sounddevice input streams (the microphone = agent leg; the device carrying the call's
far end, e.g. a loopback/monitor of the softphone's output = debtor leg) are captured as 16-bit
mono at one rate and streamed to ``/ws/ingest`` as interleaved stereo, 20 ms per frame, paced by
the wall clock. The two devices run on their own clocks, so each leg has a small buffer: a leg
short of audio at a tick is padded with silence and a leg more than ``MAX_BACKLOG_S`` ahead is
trimmed; both are counted in :class:`CaptureStats` (``--stats`` prints them).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from agent_monitor.errors import StreamingClientError
from agent_monitor.ingest.client import StreamResult, connect_websocket, ws_url
from agent_monitor.ingest.ws_ingest import interleave
from agent_monitor.model.audio import Leg

FRAME_S = 0.02
MAX_BACKLOG_S = 0.5


@dataclass
class CaptureStats:
    frames: int = 0
    padded_samples: dict[Leg, int] | None = None
    trimmed_samples: dict[Leg, int] | None = None

    def __post_init__(self) -> None:
        self.padded_samples = dict.fromkeys(Leg, 0)
        self.trimmed_samples = dict.fromkeys(Leg, 0)


def list_devices() -> str:
    import sounddevice as sd

    return str(sd.query_devices())


def resolve_device(spec: str | None) -> int | str | None:
    """A device index (``"3"``), a name substring, or ``None`` for the default input."""
    if spec is None or spec == "":
        return None
    return int(spec) if spec.isdigit() else spec


class _LegBuffer:
    """Samples from a sounddevice callback thread, taken in frames by the sender."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data = bytearray()
        #: blocks the audio driver lost (the frame clock pads for them)
        self.overflows = 0

    def callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        if status and status.input_overflow:
            self.overflows += 1
        with self._lock:
            self._data += np.asarray(indata[:, 0], dtype="<i2").tobytes()

    def take(self, n: int, max_backlog: int) -> tuple[bytes, int, int]:
        """``n`` samples (padded with silence), and how many were padded / trimmed."""
        with self._lock:
            trimmed = 0
            if len(self._data) > 2 * max_backlog:
                trimmed = (len(self._data) - 2 * max_backlog) // 2
                del self._data[: trimmed * 2]
            chunk = bytes(self._data[: 2 * n])
            del self._data[: 2 * n]
        padded = n - len(chunk) // 2
        return chunk + b"\x00\x00" * padded, padded, trimmed


async def capture_call(
    server: str,
    call: dict[str, Any],
    *,
    mic: str | None,
    call_audio: str | None,
    sample_rate: int = 16000,
    duration_s: float | None = None,
    stop_event: asyncio.Event | None = None,
    token: str | None = None,
) -> tuple[StreamResult, CaptureStats]:
    """Capture both legs and stream them as one call until ``duration_s`` or ``stop_event``."""
    from websockets.exceptions import ConnectionClosed

    n = int(sample_rate * FRAME_S)
    buffers = {Leg.AGENT: _LegBuffer(), Leg.DEBTOR: _LegBuffer()}
    stats = CaptureStats()
    result = StreamResult(call_id=str(call["call_id"]))
    streams = _open_streams(buffers, mic, call_audio, sample_rate, n)
    start_msg = {
        "type": "start",
        **call,
        "sample_rate": sample_rate,
        "encoding": "L16",
        "channels": ["agent", "debtor"],
    }
    ws = await connect_websocket(ws_url(server, "/ws/ingest"), token)
    try:
        await ws.send(json.dumps(start_msg))
        reply = json.loads(await ws.recv())
        if reply.get("type") != "started":
            raise StreamingClientError(f"server did not start the call: {reply}")
        for s in streams:
            s.start()
        await _send_frames(ws, buffers, stats, result, sample_rate, duration_s, stop_event)
        await ws.send(json.dumps({"type": "stop"}))
        async for message in ws:
            data = json.loads(message)
            if data.get("type") == "stopped":
                result.stopped = data
    except ConnectionClosed as exc:
        rcvd = exc.rcvd
        result.close_code = rcvd.code if rcvd else 1006
        result.close_reason = rcvd.reason if rcvd else "connection lost"
        return result, stats
    finally:
        for s in streams:
            s.stop()
            s.close()
        await ws.close()
    result.close_code = ws.close_code
    result.close_reason = ws.close_reason or ""
    return result, stats


def _open_streams(
    buffers: dict[Leg, _LegBuffer], mic: str | None, call_audio: str | None, sample_rate: int, n: int
) -> list[Any]:
    """One sounddevice input stream per leg (not started), each feeding its leg's buffer."""
    import sounddevice as sd

    streams = []
    try:
        for leg, device in ((Leg.AGENT, mic), (Leg.DEBTOR, call_audio)):
            streams.append(
                sd.InputStream(
                    device=resolve_device(device),
                    channels=1,
                    samplerate=sample_rate,
                    dtype="int16",
                    blocksize=n,
                    callback=buffers[leg].callback,
                )
            )
    except (sd.PortAudioError, ValueError) as exc:
        raise StreamingClientError(f"cannot open the audio device: {exc}") from None
    return streams


async def _send_frames(
    ws: Any,
    buffers: dict[Leg, _LegBuffer],
    stats: CaptureStats,
    result: StreamResult,
    sample_rate: int,
    duration_s: float | None,
    stop_event: asyncio.Event | None,
) -> None:
    """Send one interleaved frame every ``FRAME_S`` of wall clock until the duration or the stop."""
    n = int(sample_rate * FRAME_S)
    t0 = time.monotonic()
    result.started_wall = time.time()
    i = 0
    while not (stop_event is not None and stop_event.is_set()):
        if duration_s is not None and i * FRAME_S >= duration_s:
            break
        i += 1
        delay = t0 + i * FRAME_S - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        parts = []
        for leg in (Leg.AGENT, Leg.DEBTOR):
            chunk, padded, trimmed = buffers[leg].take(n, int(MAX_BACKLOG_S * sample_rate))
            assert stats.padded_samples is not None and stats.trimmed_samples is not None
            stats.padded_samples[leg] += padded
            stats.trimmed_samples[leg] += trimmed
            result.sent[leg] += chunk
            parts.append(chunk)
        await ws.send(interleave(parts, 2))
        stats.frames += 1
        result.frames += 1
        result.seconds_sent = i * FRAME_S
