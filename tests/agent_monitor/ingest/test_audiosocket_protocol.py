"""Asterisk AudioSocket framing against the real byte layout."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from agent_monitor.errors import IngestProtocolError, InvalidRequestError
from agent_monitor.ingest.audiosocket import (
    FrameParser,
    Kind,
    LegRegistry,
    convention_target,
    encode_frame,
    read_frame,
    uuid_frame,
)
from agent_monitor.ingest.ws_ingest import StartMessage
from agent_monitor.model.audio import Leg

U = uuid.UUID("6ba7b810-9dad-11d1-80b4-00c04fd43000")


def test_byte_layout() -> None:
    assert uuid_frame(U) == b"\x01\x00\x10" + U.bytes
    assert encode_frame(Kind.AUDIO, b"\x01\x02" * 160)[:3] == b"\x10\x01\x40"  # 320 bytes big-endian
    assert encode_frame(Kind.HANGUP) == b"\x00\x00\x00"
    assert encode_frame(Kind.ERROR, b"\x02") == b"\xff\x00\x01\x02"


def test_incremental_parser_handles_split_frames() -> None:
    stream = uuid_frame(U) + encode_frame(Kind.AUDIO, b"\x10\x00" * 160) + encode_frame(Kind.HANGUP)
    parser = FrameParser()
    frames = []
    for i in range(0, len(stream), 7):
        frames += parser.feed(stream[i : i + 7])
    assert [f.kind for f in frames] == [Kind.UUID, Kind.AUDIO, Kind.HANGUP]
    assert frames[0].payload == U.bytes and frames[1].payload == b"\x10\x00" * 160
    assert parser.pending == 0


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"\x42\x00\x00", "unknown AudioSocket frame kind 0x42"),
        (b"\x01\x00\x04abcd", "UUID frame of 4 bytes"),
        (b"\x10\x00\x03abc", "not whole 16-bit samples"),
        (b"\x00\x00\x01x", "hangup frame with a payload"),
    ],
)
def test_malformed_frames(data: bytes, needle: str) -> None:
    with pytest.raises(IngestProtocolError, match=needle):
        FrameParser().feed(data)


def test_async_reader_end_of_stream() -> None:
    async def run() -> None:
        reader = asyncio.StreamReader()
        reader.feed_data(uuid_frame(U) + b"\x10\x01")
        reader.feed_eof()
        frame = await read_frame(reader)
        assert frame is not None and frame.kind is Kind.UUID
        with pytest.raises(IngestProtocolError, match="inside a frame header"):
            await read_frame(reader)
        clean = asyncio.StreamReader()
        clean.feed_eof()
        assert await read_frame(clean) is None
        cut = asyncio.StreamReader()
        cut.feed_data(b"\x10\x01\x40" + b"\x00" * 10)
        cut.feed_eof()
        with pytest.raises(IngestProtocolError, match="10 of 320 bytes"):
            await read_frame(cut)

    asyncio.run(run())


def test_uuid_convention_joins_legs() -> None:
    agent = convention_target(U, "A-1")
    debtor = convention_target(uuid.UUID(bytes=U.bytes[:-1] + b"\x01"), "A-1")
    assert agent.leg is Leg.AGENT and debtor.leg is Leg.DEBTOR
    assert agent.call.call_id == debtor.call.call_id == f"audiosocket-{U}"
    with pytest.raises(IngestProtocolError, match="not registered"):
        convention_target(uuid.UUID(bytes=U.bytes[:-1] + b"\x07"), "A-1")


def test_registry() -> None:
    reg = LegRegistry()
    call = StartMessage(type="start", call_id="C", agent_id="A", sample_rate=8000, encoding="L16")
    reg.register(U, call, Leg.DEBTOR)
    reg.register(U, call, Leg.DEBTOR)  # idempotent
    with pytest.raises(IngestProtocolError, match="already registered"):
        reg.register(U, call.model_copy(update={"call_id": "D"}), Leg.AGENT)
    with pytest.raises(InvalidRequestError, match="L16 at 8000"):
        reg.register(uuid.uuid4(), call.model_copy(update={"sample_rate": 16000}), Leg.AGENT)
    target = reg.claim(U)
    assert target is not None and target.leg is Leg.DEBTOR
    assert reg.claim(U) == target  # not used up: the leg may reconnect to the same call
    assert reg.claim(uuid.uuid4()) is None


def test_the_two_legs_of_a_registered_call_must_agree_on_what_both_give() -> None:
    """The first leg to connect starts the call with its metadata: a second leg registered with
    another debt (or consent, debtor, ...) is refused at registration, not ignored at connection."""
    reg = LegRegistry()
    call = StartMessage(
        type="start", call_id="C", agent_id="A", debtor_id="D", debt_id="L-1", debtor_phone="+15550001",
        sample_rate=8000, encoding="L16",
    )  # fmt: skip
    reg.register(U, call, Leg.AGENT)
    debtor = uuid.uuid4()
    with pytest.raises(IngestProtocolError, match=r"gives debt_id 'L-2', not 'L-1' as its agent leg's"):
        reg.register(debtor, call.model_copy(update={"debt_id": "L-2"}), Leg.DEBTOR)
    reg.register(debtor, call.model_copy(update={"consented": False}), Leg.DEBTOR)  # the agent's gave none
    with pytest.raises(IngestProtocolError, match="gives consented True, not False as its debtor leg's"):
        reg.register(uuid.uuid4(), call.model_copy(update={"consented": True}), Leg.DEBTOR)
    with pytest.raises(IngestProtocolError, match="gives debtor_phone another as") as phone:
        reg.register(uuid.uuid4(), call.model_copy(update={"debtor_phone": "+15550002"}), Leg.DEBTOR)
    assert "+1555" not in str(phone.value)  # personal data stays out of the error
    assert reg.claim(debtor) is not None  # the agreeing registration above was held
    # a leg that gives less is fine; so is another call
    reg.register(uuid.uuid4(), StartMessage(type="start", call_id="C", agent_id="A"), Leg.DEBTOR)
    reg.register(uuid.uuid4(), call.model_copy(update={"call_id": "E", "debt_id": "L-2"}), Leg.AGENT)
