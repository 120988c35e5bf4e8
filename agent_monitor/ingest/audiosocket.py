"""Asterisk AudioSocket: framing, and how connections (one leg each) are joined into calls.

**Framing** (both directions): 1 byte kind, 2 bytes payload length (big-endian), payload.

=====  ===========================================================================
kind   payload
=====  ===========================================================================
0x00   hangup (length 0): the channel hung up
0x01   UUID (16 bytes): the first frame of every connection
0x03   DTMF digit (1 ASCII byte)
0x10   audio: signed linear 16-bit little-endian PCM, 8 kHz, mono ("slin")
0x11+  audio at 12 to 192 kHz (newer Asterisk versions): refused, naming the rate
0xff   error (optional 1-byte code from Asterisk; this server sends a UTF-8 reason)
=====  ===========================================================================

**Joining legs.** AudioSocket carries no call metadata, only the UUID that the dialplan gives
``AudioSocket(<uuid>,<host>:<port>)``. A connection's UUID is looked up:

1. in the :class:`LegRegistry` (filled by ``POST /api/audiosocket/register`` before the
   dialplan connects): UUID -> call metadata (the ws-ingest start fields) and leg; or
2. by convention: the last byte of the UUID names the leg (``00`` agent, ``01`` debtor) and the
   call id is ``audiosocket-<uuid with last byte 00>``; the agent id is
   ``settings.server.audiosocket_agent``. In a dialplan::

       same => n,Set(CALL=${UUID()})
       same => n,Set(AGENT_LEG=${CALL:0:34}00)      ; and ${CALL:0:34}01 for the debtor leg

The first connection of a call starts it; the call stops when every connected leg has hung up
or disconnected (status ``ended`` if all sent a hangup frame, ``aborted`` otherwise).
A protocol violation (no UUID first, unknown kind, odd audio length, a second UUID, a leg
connected twice) gets an error frame with the reason and the connection is closed; the call
keeps what was received.
"""

from __future__ import annotations

import asyncio
import struct
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from agent_monitor.errors import IngestProtocolError, InvalidRequestError, RegistrationLimitError
from agent_monitor.ingest.ws_ingest import StartMessage
from agent_monitor.model.audio import Leg

HEADER = struct.Struct(">BH")
AUDIOSOCKET_RATE = 8000
MAX_PAYLOAD = 0xFFFF


class Kind(IntEnum):
    HANGUP = 0x00
    UUID = 0x01
    DTMF = 0x03
    AUDIO = 0x10
    ERROR = 0xFF


@dataclass(frozen=True, slots=True)
class Frame:
    kind: Kind
    payload: bytes = b""


def encode_frame(kind: int, payload: bytes = b"") -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"AudioSocket payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    return HEADER.pack(kind, len(payload)) + payload


def uuid_frame(value: uuid.UUID) -> bytes:
    return encode_frame(Kind.UUID, value.bytes)


#: audio kinds of newer Asterisk versions (signed linear at other rates than 8 kHz): not taken
WIDEBAND_KINDS = {
    0x11: "12 kHz", 0x12: "16 kHz", 0x13: "24 kHz", 0x14: "32 kHz",
    0x15: "44.1 kHz", 0x16: "48 kHz", 0x17: "96 kHz", 0x18: "192 kHz",
}  # fmt: skip


def check_frame(kind_byte: int, payload: bytes) -> Frame:
    """Validate one frame's kind and payload shape."""
    try:
        kind = Kind(kind_byte)
    except ValueError:
        rate = WIDEBAND_KINDS.get(kind_byte)
        if rate is not None:  # was "unknown kind": nothing said it is the sample rate
            raise IngestProtocolError(
                f"AudioSocket audio at {rate} (kind 0x{kind_byte:02x}) is not taken: this server takes "
                "8 kHz signed linear audio (kind 0x10)"
            ) from None
        raise IngestProtocolError(f"unknown AudioSocket frame kind 0x{kind_byte:02x}") from None
    if kind is Kind.UUID and len(payload) != 16:
        raise IngestProtocolError(f"AudioSocket UUID frame of {len(payload)} bytes, expected 16")
    if kind is Kind.AUDIO and (not payload or len(payload) % 2):
        raise IngestProtocolError(
            f"AudioSocket audio frame of {len(payload)} bytes is not whole 16-bit samples"
        )
    if kind is Kind.HANGUP and payload:
        raise IngestProtocolError("AudioSocket hangup frame with a payload")
    if kind is Kind.DTMF and len(payload) != 1:
        raise IngestProtocolError(f"AudioSocket DTMF frame of {len(payload)} bytes, expected 1")
    return Frame(kind, payload)


async def read_frame(reader: asyncio.StreamReader) -> Frame | None:
    """The next frame, or ``None`` at a clean end of stream (between frames)."""
    try:
        head = await reader.readexactly(HEADER.size)
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise IngestProtocolError("AudioSocket connection ended inside a frame header") from None
    kind, length = HEADER.unpack(head)
    try:
        payload = await reader.readexactly(length) if length else b""
    except asyncio.IncompleteReadError as exc:
        raise IngestProtocolError(
            f"AudioSocket connection ended inside a frame ({len(exc.partial)} of {length} bytes)"
        ) from None
    return check_frame(kind, payload)


class FrameParser:
    """Incremental parser over a byte stream (for callers that do not use asyncio streams)."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        self._buf += data
        out = []
        while len(self._buf) >= HEADER.size:
            kind, length = HEADER.unpack_from(self._buf)
            if len(self._buf) < HEADER.size + length:
                break
            payload = bytes(self._buf[HEADER.size : HEADER.size + length])
            del self._buf[: HEADER.size + length]
            out.append(check_frame(kind, payload))
        return out

    @property
    def pending(self) -> int:
        return len(self._buf)


@dataclass(frozen=True, slots=True)
class LegTarget:
    """Where a connection's audio goes: the call (its metadata) and the leg."""

    call: StartMessage
    leg: Leg


def convention_target(value: uuid.UUID, agent_id: str) -> LegTarget:
    """The documented UUID convention: last byte 00 = agent leg, 01 = debtor leg."""
    last = value.bytes[-1]
    if last not in (0, 1):
        raise IngestProtocolError(
            f"AudioSocket UUID {value} is not registered and its last byte is not 00 (agent) or 01 (debtor)"
        )
    base = uuid.UUID(bytes=value.bytes[:-1] + b"\x00")
    call = StartMessage(
        type="start",
        call_id=f"audiosocket-{base}",
        agent_id=agent_id,
        sample_rate=AUDIOSOCKET_RATE,
        encoding="L16",
        channels=[Leg.AGENT, Leg.DEBTOR],
    )
    return LegTarget(call, Leg.AGENT if last == 0 else Leg.DEBTOR)


#: the call fields two legs' registrations must agree on where both give them (``started_at`` may
#: differ: each leg is registered when it is set up)
AGREED_FIELDS = (
    "agent_id", "debtor_id", "debtor_phone", "debtor_tz", "debt_id", "consented", "lang", "queue",
)  # fmt: skip


class LegRegistry:
    """UUID -> (call metadata, leg), registered before Asterisk connects.

    A registration lasts ``ttl_s`` seconds from when it was made or last used: a connection claims
    it (:meth:`claim`) without using it up, and the server holds it again when the leg's connection
    ends (:meth:`hold`), so a leg that reconnects within ``ttl_s`` joins the same call. One that no
    connection uses is forgotten (a dialplan that registered and never connected must not grow the
    table forever), and at most ``max_entries`` may be held at once (:class:`RegistrationLimitError`
    beyond)."""

    def __init__(
        self,
        ttl_s: float = 300.0,
        max_entries: int = 10000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._clock = clock
        self._targets: dict[uuid.UUID, tuple[LegTarget, float]] = {}  # -> (target, expires at)

    def register(self, value: uuid.UUID, call: StartMessage, leg: Leg) -> None:
        if call.sample_rate != AUDIOSOCKET_RATE or call.encoding != "L16":  # a 409 before: no conflict
            raise InvalidRequestError(
                "invalid call: AudioSocket audio is L16 at 8000 Hz: give sample_rate 8000 and encoding "
                f"L16 or leave them out, not {call.sample_rate} Hz {call.encoding}"
            )
        self._expire()
        known = self._targets.get(value)
        if known is not None and (known[0].call.call_id, known[0].leg) != (call.call_id, leg):
            raise IngestProtocolError(f"UUID {value} is already registered for call {known[0].call.call_id}")
        problem = self._disagreement(value, call, leg)
        if problem:
            raise IngestProtocolError(problem)
        if known is None and len(self._targets) >= self.max_entries:
            raise RegistrationLimitError(
                f"{len(self._targets)} AudioSocket registrations are held (waiting for a connection "
                f"or a leg to come back); try again within {self.ttl_s:g} s"
            )
        self._targets.pop(value, None)  # re-inserted last: the table stays ordered by expiry
        self._targets[value] = (LegTarget(call, leg), self._clock() + self.ttl_s)

    def _disagreement(self, value: uuid.UUID, call: StartMessage, leg: Leg) -> str | None:
        """Why ``call`` cannot be a leg of the call another held registration names (None: it can).
        The first leg to connect starts the call with its metadata, so the legs must agree on every
        field both give (a leg registered with fewer fields is fine)."""
        for other, (target, _) in self._targets.items():
            if other == value or target.call.call_id != call.call_id:
                continue
            for name in AGREED_FIELDS:
                first, this = getattr(target.call, name), getattr(call, name)
                if first is not None and this is not None and first != this:
                    shown = "another" if name == "debtor_phone" else f"{this!r}, not {first!r}"
                    return (
                        f"call {call.call_id}: this {leg.value} leg's registration gives {name} {shown} "
                        f"as its {target.leg.value} leg's does; register both legs with the same call"
                    )
        return None

    def claim(self, value: uuid.UUID) -> LegTarget | None:
        """The leg registered for ``value`` (None: not registered, or expired); kept for ``ttl_s``."""
        self._expire()
        found = self._targets.get(value)
        if found is None:
            return None
        self.hold(value, found[0])
        return found[0]

    def hold(self, value: uuid.UUID, target: LegTarget) -> None:
        """Keep ``value`` registered to ``target`` for ``ttl_s`` from now (a leg's connection ended:
        it may come back). Never over the limit: the oldest registration makes room."""
        self._targets.pop(value, None)  # re-inserted last: the table stays ordered by expiry
        if len(self._targets) >= self.max_entries:
            del self._targets[next(iter(self._targets))]
        self._targets[value] = (target, self._clock() + self.ttl_s)

    def _expire(self) -> None:
        now = self._clock()
        # registrations are kept in insertion order and refreshed ones re-inserted: oldest first
        while self._targets:
            key, (_, expires) = next(iter(self._targets.items()))
            if expires > now:
                break
            del self._targets[key]

    def __len__(self) -> int:
        self._expire()
        return len(self._targets)
