"""The ``/ws/ingest`` websocket protocol: a JSON start message, binary audio frames, a JSON stop.

Protocol (text frames are UTF-8 JSON objects, binary frames are audio)::

    client -> {"type": "start", "call_id": "C-1", "agent_id": "A-7",
               "debtor_id": "D-9", "debtor_phone": "+15551234567", "debtor_tz": "America/Chicago",
               "debt_id": "L-42", "consented": false, "lang": "en", "queue": "Q-east",
               "sample_rate": 8000, "encoding": "L16", "channels": ["agent", "debtor"]}
    server -> {"type": "started", "call_id": "C-1"}
    client -> binary frames: interleaved samples, channel i is leg channels[i]
    client -> {"event": "dtmf", "dtmf": "1", "duration": "1600"}   (optional, any time after start)
    client -> {"type": "stop", "reason": "hangup"}          (optional reason)
    server -> {"type": "stopped", "call_id": "C-1"} and a normal close (1000)

- ``encoding``: ``L16`` = 16-bit signed little-endian linear PCM (aliases ``linear16``,
  ``pcm16``, ``s16le``); ``mulaw`` = G.711 mu-law, one byte per sample (aliases ``mu-law``,
  ``ulaw``, ``pcmu``, ``audio/x-mulaw``); ``alaw`` = G.711 A-law, one byte per sample (aliases
  ``a-law``, ``pcma``, ``audio/x-alaw``), the G.711 law of most networks outside North America
  and Japan, China's included.
- ``channels``: the channel-to-leg mapping, one or two distinct legs (``agent``, ``debtor``).
  With two channels each binary frame holds whole interleaved sample frames (L R L R ...), as
  FreeSWITCH mod_audio_fork (``stereo``) and jambonz ``listen`` (``mixType: stereo``) send them.
- Any binary frame size is accepted if it is a whole number of sample frames and at most
  ``max_frame_bytes``; 20 ms frames are typical.
- A call id that already exists (a client reconnecting after a dropped connection or a server
  restart) continues that call: its rows and recordings are appended to. A call id that is live
  on this server right now is refused (1008); one whose connection has just ended and that is
  still stopping (its last audio being recognised) is resumed once it has stopped.
- ``lang`` (``en`` or ``zh``) picks the call's speech model and rule pack; without it the
  agent's or the queue's language from the settings applies (:mod:`agent_monitor.ingest.language`).
  A language whose model is not installed is recorded but not transcribed (a ``signal_health``
  event says so).
- ``debt_id`` (optional, an identifier like the others) names the debt the call is about:
  Regulation F counts calls per debt, and a call without one counts toward the debtor id's.
  ``consented`` (optional, a JSON ``true`` or ``false``; ``"yes"`` or ``1`` is refused) says the
  person gave their direct prior consent to this call (a callback they asked for): it is left out
  of the frequency counts (12 CFR 1006.14(b)(3)). Both are stored with the call.
- Unknown extra keys in the start message are ignored (mod_audio_fork and jambonz add their own
  metadata); ``event`` is accepted in place of ``type``.
- A ``dtmf`` message (a key the caller pressed: jambonz ``listen`` with ``passDtmf`` sends them as
  text frames between the audio frames) is accepted while streaming and changes nothing for the
  call; before the start it is out of order.

Violations close the connection with code 1008 (policy: bad JSON, bad start message, messages
out of order) or 1003 (binary data not acceptable: before start, misaligned, too big); the close
reason is the one-line problem. What was received before is kept.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from agent_monitor.errors import IngestProtocolError
from agent_monitor.ingest.language import call_language
from agent_monitor.model.audio import Leg
from agent_monitor.model.identifiers import MAX_ID_CHARS, MAX_PHONE_CHARS, debtor_zones, identifier_problem
from agent_monitor.model.session import CallInfo, Encoding, Source
from agent_monitor.settings import LiveSettings
from agent_monitor.strict_json import StrictJsonError, loads_strict

_ENCODINGS = {
    "l16": "L16",
    "linear16": "L16",
    "pcm16": "L16",
    "s16le": "L16",
    "audio/l16": "L16",
    "mulaw": "mulaw",
    "mu-law": "mulaw",
    "ulaw": "mulaw",
    "pcmu": "mulaw",
    "audio/x-mulaw": "mulaw",
    "alaw": "alaw",
    "a-law": "alaw",
    "pcma": "alaw",
    "audio/x-alaw": "alaw",
}
#: a start message may say when the call started this far in the future (clock skew) ...
STARTED_AT_FUTURE = timedelta(minutes=5)
#: ... or this long ago (a call resumed after a reconnect started earlier; no call lasts a day)
STARTED_AT_PAST = timedelta(days=1)

CLOSE_POLICY = 1008
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_TOO_BIG = 1009


def _check_id(value: str, what: str, max_chars: int = MAX_ID_CHARS) -> str:
    value = value.strip()
    problem = identifier_problem(value, max_chars)
    if problem is not None:
        raise ValueError(f"{what} {problem}")
    return value


class _Message(BaseModel):
    """A text message of ``/ws/ingest``: unknown keys ignored, ``event`` taken for ``type``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _event_alias(cls, data: Any) -> Any:
        if isinstance(data, dict) and "type" not in data and "event" in data:
            data = {**data, "type": data["event"]}
        return data


class StartMessage(_Message):
    """The first message of a ``/ws/ingest`` connection: who the call is and how its audio looks."""

    type: Literal["start"]
    call_id: str
    agent_id: str
    debtor_id: str | None = None
    debtor_phone: str | None = None
    debtor_tz: str | None = None
    #: the debt the call is about (``None``: the debtor id stands for it)
    debt_id: str | None = None
    #: the person's direct prior consent to this call (a JSON bool; ``None``: not given)
    consented: StrictBool | None = None
    #: ``None``: the agent's, the queue's or the default language (settings.live)
    lang: Literal["en", "zh"] | None = None
    queue: str | None = None
    sample_rate: Annotated[int, Field(ge=8000, le=48000)] = 8000
    encoding: Encoding = "L16"
    channels: Annotated[list[Leg], Field(min_length=1, max_length=2)] = [Leg.AGENT, Leg.DEBTOR]
    started_at: datetime | None = None

    @field_validator("call_id", "agent_id")
    @classmethod
    def _ids(cls, v: str, info: Any) -> str:
        return _check_id(v, info.field_name)

    @field_validator("debtor_id", "debtor_phone", "debt_id", "queue")
    @classmethod
    def _optional_ids(cls, v: str | None, info: Any) -> str | None:
        limit = MAX_PHONE_CHARS if info.field_name == "debtor_phone" else MAX_ID_CHARS
        return None if v is None or not v.strip() else _check_id(v, info.field_name, limit)

    @field_validator("debtor_tz")
    @classmethod
    def _tz(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        try:
            zones = debtor_zones(v)
        except ValueError as exc:
            raise ValueError(str(exc).replace("unknown time zone", "unknown IANA time zone")) from None
        return _check_id(",".join(zones), "debtor_tz")  # as stored: no spaces after the commas

    @field_validator("encoding", mode="before")
    @classmethod
    def _encoding(cls, v: Any) -> Any:
        if isinstance(v, str) and v.strip().lower() in _ENCODINGS:
            return _ENCODINGS[v.strip().lower()]
        raise ValueError(f"encoding must be L16, mulaw or alaw, not {v!r}")

    @field_validator("channels")
    @classmethod
    def _distinct(cls, v: list[Leg]) -> list[Leg]:
        if len(set(v)) != len(v):
            raise ValueError("each leg may be mapped to one channel only")
        return v

    @field_validator("started_at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is None:
            return v
        if v.tzinfo is None:
            raise ValueError("started_at needs a time zone (e.g. 2026-01-01T12:00:00Z)")
        now = datetime.now(UTC)
        if not now - STARTED_AT_PAST <= v <= now + STARTED_AT_FUTURE:
            raise ValueError("started_at must lie between one day ago and five minutes from now")
        return v

    @property
    def bytes_per_sample(self) -> int:
        return 2 if self.encoding == "L16" else 1


class StopMessage(_Message):
    """The last message of a ``/ws/ingest`` connection. Its ``reason`` is the client's note; one that
    is not a string is taken as none (``null`` or a number refused the stop, so a call the client
    ended properly was stored as aborted)."""

    type: Literal["stop"]
    reason: str = "stop message"

    @field_validator("reason", mode="before")
    @classmethod
    def _reason(cls, v: object) -> object:
        return v if isinstance(v, str) else "stop message"


class DtmfMessage(_Message):
    """A key the caller pressed (jambonz ``listen`` with ``passDtmf``): nothing to do for the call."""

    type: Literal["dtmf"]


def validation_problem(exc: ValidationError, what: str) -> str:
    """One line naming each invalid field of ``what``."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or what
        msg = str(err["msg"]).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}")
    return f"invalid {what}: " + "; ".join(parts)


def parse_json_object(text: str, what: str) -> dict[str, Any]:
    """``text`` as a JSON object, or an :class:`IngestProtocolError` saying why not."""
    try:
        data = loads_strict(text)
    except json.JSONDecodeError as exc:
        raise IngestProtocolError(f"{what} is not valid JSON ({exc.msg} at {exc.pos})") from None
    except StrictJsonError as exc:
        raise IngestProtocolError(f"{what}: {exc}") from None
    except RecursionError:
        raise IngestProtocolError(f"{what} is nested too deeply") from None
    if not isinstance(data, dict):
        raise IngestProtocolError(f"{what} must be a JSON object, not {type(data).__name__}")
    return data


#: a text message of ``/ws/ingest``
TextMessage = StartMessage | StopMessage | DtmfMessage
_MESSAGES: dict[str, type[TextMessage]] = {"start": StartMessage, "stop": StopMessage, "dtmf": DtmfMessage}


def parse_text_message(text: str) -> TextMessage:
    """Parse a text frame of ``/ws/ingest`` (start, stop or dtmf)."""
    data = parse_json_object(text, "text message")
    kind = data.get("type", data.get("event"))
    model = _MESSAGES.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise IngestProtocolError(f"unknown message type {kind!r} (expected start, stop or dtmf)")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise IngestProtocolError(validation_problem(exc, f"{kind} message")) from None


#: ``memoryview`` formats of one sample by its width in bytes (de-interleaving without numpy)
_SAMPLE_FORMATS: dict[int, Literal["B", "H"]] = {1: "B", 2: "H"}


def split_channels(data: bytes, channels: int, bytes_per_sample: int) -> list[bytes]:
    """De-interleave whole sample frames into one byte string per channel (a strided copy of the
    samples, byte order kept: cheap enough for every 20 ms frame)."""
    if channels == 1:
        return [bytes(data)]
    fmt = _SAMPLE_FORMATS.get(bytes_per_sample)
    if fmt is None:
        frames = np.frombuffer(data, dtype=np.uint8).reshape(-1, channels, bytes_per_sample)
        return [frames[:, i, :].tobytes() for i in range(channels)]
    samples = memoryview(data).cast(fmt)
    return [samples[i::channels].tobytes() for i in range(channels)]


def interleave(legs: list[bytes], bytes_per_sample: int) -> bytes:
    """The inverse of :func:`split_channels` (equal-length channels)."""
    if len(legs) == 1:
        return legs[0]
    arrays = [np.frombuffer(x, dtype=np.uint8).reshape(-1, bytes_per_sample) for x in legs]
    return np.stack(arrays, axis=1).tobytes()


class _State(Enum):
    AWAIT_START = "awaiting start"
    STREAMING = "streaming"
    STOPPED = "stopped"


class IngestConnection:
    """The protocol state machine of one ``/ws/ingest`` connection (no transport).

    Feed it each text or binary frame; it returns what the frame means or raises
    :class:`IngestProtocolError` (with the close code to use)."""

    def __init__(self, *, max_frame_bytes: int = 65536) -> None:
        self.max_frame_bytes = max_frame_bytes
        self.start: StartMessage | None = None
        self.state = _State.AWAIT_START
        self.frames = 0
        self.bytes = 0

    def on_text(self, text: str) -> TextMessage:
        msg = parse_text_message(text)
        if isinstance(msg, StartMessage):
            if self.state is not _State.AWAIT_START:
                raise IngestProtocolError(f"start message received while {self.state.value}")
            self.start, self.state = msg, _State.STREAMING
            return msg
        if self.state is not _State.STREAMING:
            raise IngestProtocolError(f"{msg.type} message received while {self.state.value}")
        if isinstance(msg, StopMessage):
            self.state = _State.STOPPED
        return msg

    def on_binary(self, data: bytes) -> dict[Leg, bytes]:
        """Audio of one frame, per leg (raw bytes in the start message's encoding)."""
        if self.state is not _State.STREAMING or self.start is None:
            raise IngestProtocolError(
                f"binary audio frame received while {self.state.value}", CLOSE_UNSUPPORTED_DATA
            )
        if len(data) > self.max_frame_bytes:
            raise IngestProtocolError(
                f"audio frame of {len(data)} bytes exceeds the limit of {self.max_frame_bytes}", CLOSE_TOO_BIG
            )
        width = len(self.start.channels) * self.start.bytes_per_sample
        if not data or len(data) % width:
            raise IngestProtocolError(
                f"audio frame of {len(data)} bytes is not a whole number of {width}-byte sample frames "
                f"({len(self.start.channels)} channel(s) of {self.start.encoding})",
                CLOSE_UNSUPPORTED_DATA,
            )
        self.frames += 1
        self.bytes += len(data)
        parts = split_channels(data, len(self.start.channels), self.start.bytes_per_sample)
        return dict(zip(self.start.channels, parts, strict=True))


def to_call_info(start: StartMessage, source: Source, live: LiveSettings) -> CallInfo:
    """The pipeline's :class:`CallInfo` for a validated start message (``live``: the settings that
    give a call without ``lang`` its language)."""
    return CallInfo(
        call_id=start.call_id,
        agent_id=start.agent_id,
        debtor_id=start.debtor_id,
        debtor_phone=start.debtor_phone,
        debtor_tz=start.debtor_tz,
        debt_id=start.debt_id,
        consented=bool(start.consented),
        lang=call_language(live, start.lang, start.agent_id, start.queue),
        source=source,
        sample_rate=start.sample_rate,
        encoding=start.encoding,
        **({"started_at": start.started_at} if start.started_at else {}),
    )
