"""The /ws/ingest protocol state machine against the real byte shapes (no transport)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from agent_monitor.errors import IngestProtocolError
from agent_monitor.ingest import close_reason
from agent_monitor.ingest.ws_ingest import (
    IngestConnection,
    StartMessage,
    StopMessage,
    interleave,
    parse_text_message,
    split_channels,
)
from agent_monitor.model.audio import Leg

START = {
    "type": "start",
    "call_id": "C-1",
    "agent_id": "A-7",
    "debtor_id": "D-9",
    "debtor_phone": "+15551234567",
    "debtor_tz": "America/Chicago",
    "sample_rate": 8000,
    "encoding": "L16",
    "channels": ["agent", "debtor"],
}


def test_start_message_full_shape() -> None:
    msg = parse_text_message(json.dumps(START))
    assert isinstance(msg, StartMessage)
    assert msg.call_id == "C-1" and msg.agent_id == "A-7" and msg.debtor_tz == "America/Chicago"
    assert msg.channels == [Leg.AGENT, Leg.DEBTOR]
    assert msg.bytes_per_sample == 2 and msg.lang is None  # not given: the settings decide (ingest.language)


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("mu-law", "mulaw"),
        ("PCMU", "mulaw"),
        ("linear16", "L16"),
        ("audio/x-mulaw", "mulaw"),
        ("alaw", "alaw"),
        ("A-law", "alaw"),
        ("PCMA", "alaw"),
        ("audio/x-alaw", "alaw"),
    ],
)
def test_encoding_aliases(alias: str, canonical: str) -> None:
    msg = parse_text_message(json.dumps({**START, "encoding": alias}))
    assert isinstance(msg, StartMessage) and msg.encoding == canonical
    assert msg.bytes_per_sample == (2 if canonical == "L16" else 1)


def test_mod_audio_fork_style_event_key_and_extra_metadata_accepted() -> None:
    data = {k: v for k, v in START.items() if k != "type"} | {
        "event": "start",
        "callSid": "x",
        "mixType": "stereo",
    }
    msg = parse_text_message(json.dumps(data))
    assert isinstance(msg, StartMessage) and msg.call_id == "C-1"


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"agent_id": ""}, "agent_id"),
        ({"encoding": "opus"}, "encoding must be L16, mulaw or alaw"),
        ({"sample_rate": 4000}, "sample_rate"),
        ({"channels": ["agent", "agent"]}, "one channel only"),
        ({"channels": ["agent", "debtor", "agent"]}, "channels"),
        ({"channels": ["caller"]}, "channels"),
        ({"debtor_tz": "Mars/Olympus"}, "unknown IANA time zone"),
        # in the database, but not a place: the server's own zone, a placeholder, a template, copies
        ({"debtor_tz": "localtime"}, "unknown IANA time zone 'localtime': not the zone of a place"),
        ({"debtor_tz": "Factory"}, "unknown IANA time zone 'Factory': not the zone of a place"),
        ({"debtor_tz": "posixrules"}, "unknown IANA time zone 'posixrules': not the zone of a place"),
        ({"debtor_tz": "right/America/New_York"}, "not the zone of a place"),
        ({"debtor_tz": "posix/Asia/Shanghai"}, "not the zone of a place"),
        ({"debtor_tz": "America/New_York,Mars/Olympus"}, "unknown IANA time zone 'Mars/Olympus'"),
        ({"debtor_tz": "America/New_York,"}, "an empty name"),
        ({"started_at": "2026-01-01T10:00:00"}, "time zone"),
        ({"call_id": "bad\nid"}, "call_id"),
        ({"call_id": ".."}, "call_id: call_id must not be '.' or '..'"),
        ({"agent_id": "."}, "agent_id: agent_id must not be '.' or '..'"),
    ],
)
def test_invalid_start_messages_name_the_field(change: dict[str, object], needle: str) -> None:
    with pytest.raises(IngestProtocolError) as err:
        parse_text_message(json.dumps({**START, **change}))
    assert needle in str(err.value)
    assert err.value.close_code == 1008
    assert "\n" not in str(err.value)


def test_several_debtor_zones_are_read_and_stored_without_spaces() -> None:
    msg = parse_text_message(json.dumps({**START, "debtor_tz": " America/New_York , America/Los_Angeles"}))
    assert isinstance(msg, StartMessage) and msg.debtor_tz == "America/New_York,America/Los_Angeles"


def test_missing_required_and_bad_json() -> None:
    with pytest.raises(IngestProtocolError, match="agent_id: Field required"):
        parse_text_message(json.dumps({"type": "start", "call_id": "x"}))
    with pytest.raises(IngestProtocolError, match="not valid JSON"):
        parse_text_message('{"type": "start",')
    with pytest.raises(IngestProtocolError, match="must be a JSON object"):
        parse_text_message("[1, 2]")
    with pytest.raises(IngestProtocolError, match="unknown message type 'hello'"):
        parse_text_message('{"type": "hello"}')


def test_stop_message() -> None:
    msg = parse_text_message('{"type": "stop", "reason": "hangup"}')
    assert isinstance(msg, StopMessage) and msg.reason == "hangup"
    assert isinstance(parse_text_message('{"type": "stop"}'), StopMessage)
    for reason in ("null", "7", '{"code": 1}'):  # not a string: no note, still a stop
        msg = parse_text_message(f'{{"type": "stop", "reason": {reason}}}')
        assert isinstance(msg, StopMessage) and msg.reason == "stop message"


def test_interleaved_stereo_l16_frames_split_per_leg() -> None:
    agent = np.arange(160, dtype="<i2")
    debtor = -np.arange(160, dtype="<i2") - 1000
    frame = np.stack([agent, debtor], axis=1).astype("<i2").tobytes()  # L R L R
    conn = IngestConnection()
    conn.on_text(json.dumps(START))
    legs = conn.on_binary(frame)
    assert legs[Leg.AGENT] == agent.tobytes()
    assert legs[Leg.DEBTOR] == debtor.tobytes()
    assert interleave([legs[Leg.AGENT], legs[Leg.DEBTOR]], 2) == frame
    assert conn.frames == 1 and conn.bytes == 640


def test_channel_order_follows_mapping_and_mulaw_is_one_byte() -> None:
    conn = IngestConnection()
    conn.on_text(json.dumps({**START, "encoding": "mulaw", "channels": ["debtor", "agent"]}))
    legs = conn.on_binary(bytes([1, 2, 3, 4, 5, 6]))
    assert legs == {Leg.DEBTOR: bytes([1, 3, 5]), Leg.AGENT: bytes([2, 4, 6])}


def test_mono_single_leg() -> None:
    conn = IngestConnection()
    conn.on_text(json.dumps({**START, "channels": ["debtor"]}))
    assert conn.on_binary(b"\x01\x02\x03\x04") == {Leg.DEBTOR: b"\x01\x02\x03\x04"}
    assert split_channels(b"ab", 1, 2) == [b"ab"]


def test_split_channels_keeps_every_sample_of_every_channel() -> None:
    rng = np.random.default_rng(3)
    for width, dtype in ((1, np.uint8), (2, "<i2")):
        legs = [rng.integers(-300, 300, 160).astype(dtype) for _ in range(2)]
        frame = np.stack(legs, axis=1).tobytes()
        assert split_channels(frame, 2, width) == [x.tobytes() for x in legs]
        assert interleave(split_channels(frame, 2, width), width) == frame
    assert split_channels(bytes(range(12)), 2, 3) == [bytes([0, 1, 2, 6, 7, 8]), bytes([3, 4, 5, 9, 10, 11])]


def test_frame_violations_have_close_codes() -> None:
    conn = IngestConnection(max_frame_bytes=1024)
    with pytest.raises(IngestProtocolError, match="binary audio frame received while awaiting start") as err:
        conn.on_binary(b"\x00\x00\x00\x00")
    assert err.value.close_code == 1003
    conn.on_text(json.dumps(START))
    with pytest.raises(IngestProtocolError, match="not a whole number of 4-byte sample frames") as err:
        conn.on_binary(b"\x00" * 6)
    assert err.value.close_code == 1003
    with pytest.raises(IngestProtocolError, match="exceeds the limit") as err:
        conn.on_binary(b"\x00" * 2048)
    assert err.value.close_code == 1009
    with pytest.raises(IngestProtocolError, match="not a whole number"):
        conn.on_binary(b"")


def test_order_violations() -> None:
    conn = IngestConnection()
    with pytest.raises(IngestProtocolError, match="stop message received while awaiting start"):
        conn.on_text('{"type": "stop"}')
    conn.on_text(json.dumps(START))
    with pytest.raises(IngestProtocolError, match="start message received while streaming"):
        conn.on_text(json.dumps(START))
    conn.on_text('{"type": "stop"}')
    with pytest.raises(IngestProtocolError, match="while stopped"):
        conn.on_binary(b"\x00\x00\x00\x00")


def test_close_reason_fits_a_close_frame() -> None:
    assert close_reason("short") == "short"
    long = close_reason("é" * 200)
    assert len(long.encode()) <= 123 and long.endswith("...")
