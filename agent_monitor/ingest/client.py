"""The sending side of ``/ws/ingest`` and ``/ws/twilio``: stream a call's audio in real time.

Used by ``agent-monitor replay``, ``demo``, ``capture`` and the live benchmark. Frames are sent on
a fixed schedule from the first one (``frame_ms / speed`` apart, absolute deadlines, so pacing
does not drift); :class:`StreamResult` says how it went, including the close code and reason the
server gave (a protocol violation is reported, not raised).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from agent_monitor.errors import StreamingClientError
from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.ingest.server_languages import split_server_url
from agent_monitor.ingest.twilio import TWILIO_RATE, media_message, start_message
from agent_monitor.ingest.ws_ingest import interleave
from agent_monitor.model.audio import Leg
from agent_monitor.model.session import Encoding

Protocol = Literal["ingest", "twilio"]


@dataclass
class StreamResult:
    call_id: str
    frames: int = 0
    seconds_sent: float = 0.0
    #: ``time.time()`` when the first audio frame was sent (sample 0 of the call clock)
    started_wall: float = 0.0
    #: the worst lateness of a frame against its schedule (seconds)
    max_send_late_s: float = 0.0
    close_code: int | None = None
    close_reason: str = ""
    stopped: dict[str, Any] = field(default_factory=dict)
    #: bytes sent per leg, as sent on the wire (L16 or mu-law)
    sent: dict[Leg, bytearray] = field(
        default_factory=lambda: {Leg.AGENT: bytearray(), Leg.DEBTOR: bytearray()}
    )

    @property
    def completed(self) -> bool:
        return self.close_code == 1000 and bool(self.stopped)


def ws_url(server: str, path: str) -> str:
    """``http://host:port`` (or ``ws://``, ``host:port``) plus ``path`` as a websocket URL;
    :class:`ConfigError` for another scheme or no host."""
    scheme, rest = split_server_url(server)
    return f"{'wss' if scheme in ('https', 'wss') else 'ws'}://{rest}{path}"


async def paced(n_frames: int, frame_s: float, speed: float, result: StreamResult) -> AsyncIterator[int]:
    """Yield frame indexes at their real-time deadlines (``speed`` times real time)."""
    if speed <= 0:
        raise StreamingClientError("speed must be positive")
    start = time.monotonic()
    result.started_wall = time.time()
    for i in range(n_frames):
        due = start + i * frame_s / speed
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            result.max_send_late_s = max(result.max_send_late_s, -delay)
        yield i


def _frames(audio: CallAudio, frame_ms: int) -> tuple[int, int]:
    n = max(1, audio.sample_rate * frame_ms // 1000)
    return n, (len(audio.agent) + n - 1) // n


def encode(samples: np.ndarray[Any, Any], encoding: str) -> bytes:
    from agent_monitor.audio.g711 import alaw_encode, mulaw_encode

    if encoding == "mulaw":
        return mulaw_encode(samples.astype(np.int16))
    if encoding == "alaw":
        return alaw_encode(samples.astype(np.int16))
    return samples.astype("<i2").tobytes()


def auth_headers(token: str | None) -> dict[str, str]:
    """The header that carries the server's ingest token (none without a token)."""
    return {"Authorization": f"Bearer {token}"} if token else {}


async def connect_websocket(url: str, token: str | None = None) -> Any:
    """Open the ingest websocket at ``url``, presenting ``token``; every failure is one
    :class:`StreamingClientError` (a refused token says so: the server answers the handshake
    with HTTP 403, which alone told a user nothing)."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    try:
        return await connect(url, max_size=None, open_timeout=10, additional_headers=auth_headers(token))
    except (OSError, TimeoutError) as exc:
        raise StreamingClientError(f"cannot connect to {url}: {exc}") from None
    except InvalidStatus as exc:
        if exc.response.status_code in (401, 403):
            raise StreamingClientError(_token_refused(url, token, exc.response.status_code)) from None
        raise StreamingClientError(f"cannot open websocket {url}: {exc}") from None
    except Exception as exc:  # websockets' other handshake errors (InvalidURI, InvalidMessage, ...)
        raise StreamingClientError(f"cannot open websocket {url}: {exc}") from None


def _token_refused(url: str, token: str | None, status: int) -> str:
    said = "no ingest token was found" if token is None else "the ingest token sent is not the server's"
    return (
        f"{url}: the server refused the connection (HTTP {status}): {said}; set web.ingest_token "
        "(AGENT_MONITOR_WEB__INGEST_TOKEN) to the server's, or use the server's data_dir, "
        "which holds its ingest-token file"
    )


def _closed(result: StreamResult, exc: Any) -> StreamResult:
    rcvd = getattr(exc, "rcvd", None)
    result.close_code = rcvd.code if rcvd is not None else 1006
    result.close_reason = rcvd.reason if rcvd is not None else "connection lost"
    return result


async def stream_ingest(
    server: str,
    audio: CallAudio,
    start: dict[str, Any],
    *,
    speed: float = 1.0,
    frame_ms: int = 20,
    encoding: Encoding = "L16",
    stop: bool = True,
    on_frame: Callable[[int], None] | None = None,
    token: str | None = None,
) -> StreamResult:
    """Stream ``audio`` as one call to ``/ws/ingest`` (interleaved stereo: agent, debtor).

    ``start`` holds the call metadata (``call_id``, ``agent_id``, ...); the rate, encoding and
    channel mapping are filled in. ``stop=False`` ends by dropping the connection (a killed
    client) instead of sending the stop message."""
    from websockets.exceptions import ConnectionClosed

    msg = {
        "type": "start",
        **start,
        "sample_rate": audio.sample_rate,
        "encoding": encoding,
        "channels": ["agent", "debtor"],
    }
    result = StreamResult(call_id=str(msg["call_id"]))
    ws = await connect_websocket(ws_url(server, "/ws/ingest"), token)
    try:
        await ws.send(json.dumps(msg))
        reply = json.loads(await ws.recv())
        if reply.get("type") != "started":
            raise StreamingClientError(f"server did not start the call: {reply}")
        await _send_ingest_frames(ws, audio, result, frame_ms, encoding, speed, on_frame)
        if not stop:
            return _abort(ws, result)
        await ws.send(json.dumps({"type": "stop"}))
        async for message in ws:
            data = json.loads(message)
            if data.get("type") == "stopped":
                result.stopped = data
    except ConnectionClosed as exc:
        return _closed(result, exc)
    finally:
        await ws.close()
    result.close_code = ws.close_code
    result.close_reason = ws.close_reason or ""
    return result


async def stream_twilio(
    server: str,
    audio: CallAudio,
    params: dict[str, str],
    *,
    speed: float = 1.0,
    stop: bool = True,
    call_sid: str | None = None,
    token: str | None = None,
) -> StreamResult:
    """Stream ``audio`` like Twilio Media Streams: inbound = debtor, outbound = agent, 20 ms
    mu-law frames (``audio`` must be 8 kHz)."""
    from websockets.exceptions import ConnectionClosed

    if audio.sample_rate != TWILIO_RATE:
        raise StreamingClientError(f"Twilio streams are 8000 Hz; audio is {audio.sample_rate} Hz")
    sid = call_sid or "CA" + uuid.uuid4().hex
    stream_sid = "MZ" + uuid.uuid4().hex
    result = StreamResult(call_id=params.get("call_id", sid))
    ws = await connect_websocket(ws_url(server, "/ws/twilio"), token)
    seq = itertools.count(1)  # Twilio's sequenceNumber: 1, 2, ... over every message
    try:
        await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        await ws.send(json.dumps(start_message(stream_sid, sid, params, seq=next(seq))))
        await _send_twilio_frames(ws, audio, result, stream_sid, seq, speed)
        if not stop:
            return _abort(ws, result)
        await ws.send(json.dumps(_twilio_stop(stream_sid, next(seq), sid)))
        async for _ in ws:
            pass
    except ConnectionClosed as exc:
        return _closed(result, exc)
    finally:
        await ws.close()
    result.close_code = ws.close_code
    result.close_reason = ws.close_reason or ""
    result.stopped = {"type": "stopped"} if result.close_code == 1000 else {}
    return result


async def _send_ingest_frames(
    ws: Any,
    audio: CallAudio,
    result: StreamResult,
    frame_ms: int,
    encoding: Encoding,
    speed: float,
    on_frame: Callable[[int], None] | None,
) -> None:
    """Every frame of ``audio`` as interleaved stereo (agent, debtor), paced."""
    n, count = _frames(audio, frame_ms)
    width = 2 if encoding == "L16" else 1
    async for i in paced(count, n / audio.sample_rate, speed, result):
        a = encode(audio.agent[i * n : (i + 1) * n], encoding)
        d = encode(audio.debtor[i * n : (i + 1) * n], encoding)
        await ws.send(interleave([a, d], width))
        result.sent[Leg.AGENT] += a
        result.sent[Leg.DEBTOR] += d
        result.frames += 1
        result.seconds_sent = (i + 1) * n / audio.sample_rate
        if on_frame is not None:
            on_frame(i)


async def _send_twilio_frames(
    ws: Any, audio: CallAudio, result: StreamResult, stream_sid: str, seq: Iterator[int], speed: float
) -> None:
    """Every 20 ms of ``audio`` as two Twilio media messages (inbound = debtor, outbound = agent)."""
    n, count = _frames(audio, 20)
    async for i in paced(count, n / TWILIO_RATE, speed, result):
        for track, leg in (("inbound", Leg.DEBTOR), ("outbound", Leg.AGENT)):
            payload = encode(audio.leg(leg)[i * n : (i + 1) * n], "mulaw")
            await ws.send(json.dumps(media_message(stream_sid, track, next(seq), i + 1, i * 20, payload)))
            result.sent[leg] += payload
        result.frames += 1
        result.seconds_sent = (i + 1) * n / TWILIO_RATE


def _twilio_stop(stream_sid: str, seq: int, call_sid: str) -> dict[str, Any]:
    return {
        "event": "stop",
        "sequenceNumber": str(seq),
        "streamSid": stream_sid,
        "stop": {"accountSid": "AC" + "0" * 32, "callSid": call_sid},
    }


def _abort(ws: Any, result: StreamResult) -> StreamResult:
    """Drop the connection like a killed process: no close frame."""
    ws.transport.abort()
    result.close_code, result.close_reason = 1006, "client aborted"
    return result


async def replay_call(
    server: str,
    audio: CallAudio,
    call: dict[str, Any],
    *,
    protocol: Protocol = "ingest",
    speed: float = 1.0,
    token: str | None = None,
) -> StreamResult:
    """One recorded call into a running server as a live call, over ``protocol``; ``token`` is the
    server's ingest token."""
    if protocol == "twilio":
        # TwiML parameters are strings; a bool (``consented``) as TwiML writes it: true / false
        params = {k: _twiml_value(v) for k, v in call.items() if v is not None}
        return await stream_twilio(
            server, audio, params, speed=speed, call_sid=str(call["call_id"]), token=token
        )
    return await stream_ingest(server, audio, call, speed=speed, token=token)


def _twiml_value(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)
