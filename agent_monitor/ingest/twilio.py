"""Twilio Media Streams (``<Stream>`` / ``<Start><Stream>``) messages, parsed and validated.

Twilio opens a websocket and sends JSON text frames::

    {"event": "connected", "protocol": "Call", "version": "1.0.0"}
    {"event": "start", "sequenceNumber": "1", "streamSid": "MZ...",
     "start": {"accountSid": "AC...", "streamSid": "MZ...", "callSid": "CA...",
               "tracks": ["inbound", "outbound"],
               "customParameters": {"agent_id": "A-7", "debtor_tz": "America/Chicago"},
               "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}
    {"event": "media", "sequenceNumber": "3", "streamSid": "MZ...",
     "media": {"track": "inbound", "chunk": "1", "timestamp": "5", "payload": "<base64 mu-law>"}}
    {"event": "mark", ..., "mark": {"name": "..."}}     {"event": "dtmf", ..., "dtmf": {...}}
    {"event": "stop", "sequenceNumber": "5", "streamSid": "MZ...", "stop": {"callSid": "CA..."}}

The two tracks are the two legs. Call metadata travels in ``customParameters`` (TwiML
``<Parameter name="agent_id" value="A-7"/>``): ``agent_id`` (required), ``call_id`` (default
the ``callSid``), ``debtor_id``, ``debtor_phone``, ``debtor_tz``, ``debt_id``, ``consented``,
``lang``, ``queue`` and ``agent_track`` (``outbound`` by default: the audio Twilio plays into the
call is the agent's; ``inbound``, the audio from the called party, is the debtor's). A TwiML
parameter's value is always a string, so ``consented`` is written ``true`` or ``false`` (in any
case: ``True``, as a template may print a bool, is true; ``yes`` and ``1`` are refused) and
``lang`` in any case (``EN``); the ws-ingest start message's rules apply to the rest. The start
event's ``callSid`` and ``streamSid`` are non-empty strings (``null`` made the call id ``None``).

Each track's ``timestamp`` is milliseconds since the stream started; when a track's timestamp
runs ahead of the audio received on it by more than ``GAP_TOLERANCE_MS`` the gap is filled with
mu-law silence so both legs stay on one call clock (the recording then holds that silence). A
gap is filled with at most ``max_gap_s`` seconds of silence (the leg queue length); the rest is
counted as dropped (:attr:`TwilioMedia.gap_dropped`) and the track's clock still moves to the
timestamp, so the next message does not count it again. Nothing is ever allocated by a number the
client sends: a timestamp jump of days costs a counter, not memory.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import ValidationError

from agent_monitor.errors import IngestProtocolError
from agent_monitor.ingest.ws_ingest import (
    CLOSE_TOO_BIG,
    CLOSE_UNSUPPORTED_DATA,
    StartMessage,
    parse_json_object,
    validation_problem,
)
from agent_monitor.model.audio import Leg

TWILIO_RATE = 8000
#: mu-law code of a zero sample
MULAW_SILENCE = 0xFF
GAP_TOLERANCE_MS = 60
#: timestamps beyond this (ms, about 31 years) are refused as nonsense
MAX_TIMESTAMP_MS = 10**12
TRACKS = ("inbound", "outbound")


#: how a TwiML ``<Parameter>`` (a string) says ``consented``
_CONSENT = {"true": True, "false": False}


def _consent(value: Any) -> bool:
    """A ``consented`` custom parameter as a bool: the string ``true`` or ``false`` in any case
    (TwiML sends strings; a template printing a bool writes ``True``), or a JSON bool; anything else
    is refused naming the parameter (the stream closes before any audio: nothing is lost)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _CONSENT:
        return _CONSENT[value.lower()]
    raise IngestProtocolError("invalid start event customParameters: consented must be 'true' or 'false'")


@dataclass(frozen=True, slots=True)
class TwilioStart:
    """What a ``start`` message says: the stream and the call it belongs to."""

    stream_sid: str
    call_sid: str
    account_sid: str | None
    tracks: tuple[str, ...]
    legs: dict[str, Leg]  # track -> leg
    call: StartMessage  # the call metadata in the ws-ingest shape (mu-law 8 kHz)


@dataclass(frozen=True, slots=True)
class TwilioMedia:
    """Audio of one track: ``leg`` and mu-law bytes (silence for a gap included).

    ``gap_filled``: samples of silence put before the audio; ``gap_dropped``: samples of the gap
    beyond the fill limit, counted as dropped audio and not sent on."""

    leg: Leg
    payload: bytes
    gap_filled: int = 0
    gap_dropped: int = 0


@dataclass(frozen=True, slots=True)
class TwilioStop:
    reason: str = "stop event"


@dataclass(frozen=True, slots=True)
class TwilioOther:
    """``connected``, ``mark``, ``dtmf``: acknowledged, nothing to do for the call."""

    event: str
    data: dict[str, Any]


TwilioMessage = TwilioStart | TwilioMedia | TwilioStop | TwilioOther


class _State(Enum):
    AWAIT_START = "awaiting start"
    STREAMING = "streaming"
    STOPPED = "stopped"


def _get(data: dict[str, Any], key: str, what: str) -> Any:
    if key not in data:
        raise IngestProtocolError(f"{what}: missing {key!r}")
    return data[key]


def _object(data: dict[str, Any], key: str, what: str) -> dict[str, Any]:
    value = _get(data, key, what)
    if not isinstance(value, dict):
        raise IngestProtocolError(f"{what}: {key!r} must be an object")
    return value


class TwilioConnection:
    """The protocol state machine of one Twilio Media Streams websocket (no transport)."""

    def __init__(self, *, max_payload_bytes: int = 32768, max_gap_s: float = 10.0) -> None:
        self.max_payload_bytes = max_payload_bytes
        self.max_gap_samples = max(0, int(max_gap_s * TWILIO_RATE))
        self.state = _State.AWAIT_START
        self.start: TwilioStart | None = None
        self.connected = False
        self._received: dict[str, int] = dict.fromkeys(TRACKS, 0)  # samples per track
        self._last_seq = 0

    def on_text(self, text: str) -> TwilioMessage:
        data = parse_json_object(text, "Twilio message")
        event = data.get("event")
        if not isinstance(event, str):
            raise IngestProtocolError("Twilio message without an 'event' name")
        seq = data.get("sequenceNumber")
        if seq is not None:
            try:
                number = int(seq)
            except (TypeError, ValueError, OverflowError):
                raise IngestProtocolError(
                    f"{event}: sequenceNumber {str(seq)[:40]!r} is not a number"
                ) from None
            if number <= self._last_seq:
                raise IngestProtocolError(
                    f"{event}: sequenceNumber {number} does not follow {self._last_seq}"
                )
            self._last_seq = number
        if event == "connected":
            if self.connected or self.state is not _State.AWAIT_START:
                raise IngestProtocolError("connected event received twice or after start")
            self.connected = True
            return TwilioOther(event, data)
        if event == "start":
            return self._on_start(data)
        if event in ("media", "mark", "dtmf", "stop") and self.state is not _State.STREAMING:
            raise IngestProtocolError(f"{event} event received while {self.state.value}")
        if event == "media":
            return self._on_media(data)
        if event == "stop":
            self.state = _State.STOPPED
            return TwilioStop()
        if event in ("mark", "dtmf"):
            return TwilioOther(event, data)
        raise IngestProtocolError(f"unknown Twilio event {event!r}")

    def _on_start(self, data: dict[str, Any]) -> TwilioStart:
        if self.state is not _State.AWAIT_START:
            raise IngestProtocolError(f"start event received while {self.state.value}")
        start = _object(data, "start", "start event")
        stream_sid = _sid(data.get("streamSid") or _get(start, "streamSid", "start event"), "streamSid")
        call_sid = _sid(_get(start, "callSid", "start event"), "callSid")
        fmt = _object(start, "mediaFormat", "start event")
        encoding, rate, channels = fmt.get("encoding"), fmt.get("sampleRate"), fmt.get("channels", 1)
        if encoding != "audio/x-mulaw" or rate != TWILIO_RATE or channels != 1:
            raise IngestProtocolError(
                f"start event: media format must be audio/x-mulaw 8000 Hz mono, "
                f"not {encoding} {rate} Hz {channels} channel(s)",
                CLOSE_UNSUPPORTED_DATA,
            )
        tracks = _tracks(start.get("tracks", ["inbound"]))
        params = start.get("customParameters") or {}
        if not isinstance(params, dict):
            raise IngestProtocolError("start event: customParameters must be an object")
        agent_track = params.get("agent_track", "outbound")
        if agent_track not in TRACKS:
            raise IngestProtocolError(
                f"start event: agent_track must be inbound or outbound, not {agent_track!r}"
            )
        legs = {t: (Leg.AGENT if t == agent_track else Leg.DEBTOR) for t in TRACKS}
        fields = {
            k: params[k]
            for k in ("agent_id", "debtor_id", "debtor_phone", "debtor_tz", "debt_id", "lang", "queue")
            if k in params
        }
        if "consented" in params:
            fields["consented"] = _consent(params["consented"])
        if isinstance(fields.get("lang"), str):  # a TwiML value: "EN" is English, not a closed stream
            fields["lang"] = fields["lang"].lower()
        try:
            call = StartMessage.model_validate(
                {
                    "type": "start",
                    "call_id": params.get("call_id") or call_sid,
                    **fields,
                    "sample_rate": TWILIO_RATE,
                    "encoding": "mulaw",
                    "channels": [legs[t] for t in tracks],
                }
            )
        except ValidationError as exc:
            raise IngestProtocolError(validation_problem(exc, "start event customParameters")) from None
        self.start = TwilioStart(
            stream_sid=stream_sid,
            call_sid=call_sid,
            account_sid=start.get("accountSid"),
            tracks=tuple(tracks),
            legs=legs,
            call=call,
        )
        self.state = _State.STREAMING
        return self.start

    def _on_media(self, data: dict[str, Any]) -> TwilioMedia:
        assert self.start is not None
        media = _object(data, "media", "media event")
        track = media.get("track", "inbound")
        if track not in self.start.tracks:
            raise IngestProtocolError(f"media event: track {track!r} was not announced in start")
        payload_text = _get(media, "payload", "media event")
        if not isinstance(payload_text, str):
            raise IngestProtocolError("media event: payload must be a base64 string")
        if len(payload_text) > self.max_payload_bytes * 4 // 3 + 4:
            raise IngestProtocolError(
                f"media event: payload exceeds {self.max_payload_bytes} bytes", CLOSE_TOO_BIG
            )
        try:
            payload = base64.b64decode(payload_text, validate=True)
        except (binascii.Error, ValueError):
            raise IngestProtocolError("media event: payload is not valid base64") from None
        if not payload:
            raise IngestProtocolError("media event: empty payload")
        filled = dropped = 0
        stamp = media.get("timestamp")
        if stamp is not None:
            ahead = _timestamp(stamp) * TWILIO_RATE // 1000 - self._received[track]
            if ahead > GAP_TOLERANCE_MS * TWILIO_RATE // 1000:
                filled = min(ahead, self.max_gap_samples)
                dropped = ahead - filled
                payload = bytes([MULAW_SILENCE]) * filled + payload
        self._received[track] += dropped + len(payload)
        return TwilioMedia(self.start.legs[track], payload, filled, dropped)


def _tracks(tracks: object) -> list[str]:
    """A start event's ``tracks``: ``inbound`` and/or ``outbound``, each once (a track named twice
    was refused as the ``channels`` of ``customParameters``, which the stream never sent)."""
    if (
        not isinstance(tracks, list)
        or not tracks
        or any(t not in TRACKS for t in tracks)
        or len(set(tracks)) < len(tracks)
    ):
        raise IngestProtocolError(
            f"start event: tracks must be inbound and/or outbound, each once, not {tracks!r}"
        )
    return tracks


def _sid(value: object, key: str) -> str:
    """A Twilio identifier (``streamSid``, ``callSid``): a string with a character other than space
    (``null`` or an object made the call id ``None`` or ``{...}``, every such stream one call)."""
    if not isinstance(value, str) or not value.strip():
        raise IngestProtocolError(f"start event: {key} must be a non-empty string")
    return value


def _timestamp(stamp: object) -> int:
    """A media timestamp (ms since the stream started, a number or a string of digits)."""
    if isinstance(stamp, bool) or not isinstance(stamp, int | str):
        raise IngestProtocolError(f"media event: timestamp {stamp!r} is not a number")
    try:
        ms = int(stamp)
    except ValueError:
        raise IngestProtocolError(f"media event: timestamp {str(stamp)[:40]!r} is not a number") from None
    if not 0 <= ms <= MAX_TIMESTAMP_MS:
        raise IngestProtocolError(
            f"media event: timestamp {ms if ms < 10**15 else '(huge)'} ms is out of range"
        )
    return ms


def media_message(
    stream_sid: str, track: str, seq: int, chunk: int, timestamp_ms: int, payload: bytes
) -> dict[str, Any]:
    """A ``media`` message as Twilio sends it (for replay clients and tests)."""
    return {
        "event": "media",
        "sequenceNumber": str(seq),
        "streamSid": stream_sid,
        "media": {
            "track": track,
            "chunk": str(chunk),
            "timestamp": str(timestamp_ms),
            "payload": base64.b64encode(payload).decode("ascii"),
        },
    }


def start_message(
    stream_sid: str, call_sid: str, params: dict[str, str], tracks: tuple[str, ...] = TRACKS, seq: int = 1
) -> dict[str, Any]:
    """A ``start`` message as Twilio sends it."""
    return {
        "event": "start",
        "sequenceNumber": str(seq),
        "streamSid": stream_sid,
        "start": {
            "accountSid": "AC" + "0" * 32,
            "streamSid": stream_sid,
            "callSid": call_sid,
            "tracks": list(tracks),
            "customParameters": params,
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": TWILIO_RATE, "channels": 1},
        },
    }
