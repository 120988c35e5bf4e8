"""Twilio Media Streams messages, in the shapes Twilio documents, through the parser."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from agent_monitor.audio.g711 import mulaw_encode
from agent_monitor.errors import IngestProtocolError
from agent_monitor.ingest.twilio import (
    TwilioConnection,
    TwilioMedia,
    TwilioOther,
    TwilioStart,
    TwilioStop,
    media_message,
    start_message,
)
from agent_monitor.model.audio import Leg

CONNECTED = '{"event": "connected", "protocol": "Call", "version": "1.0.0"}'
PARAMS = {"agent_id": "A-7", "debtor_tz": "America/New_York", "debtor_phone": "+15550001111"}


def started(params: dict[str, str] | None = None) -> TwilioConnection:
    conn = TwilioConnection()
    assert isinstance(conn.on_text(CONNECTED), TwilioOther)
    msg = conn.on_text(json.dumps(start_message("MZ1", "CA1", params or PARAMS)))
    assert isinstance(msg, TwilioStart)
    return conn


def test_start_maps_tracks_to_legs_and_metadata() -> None:
    conn = started()
    assert conn.start is not None
    assert conn.start.legs == {"inbound": Leg.DEBTOR, "outbound": Leg.AGENT}
    call = conn.start.call
    assert call.call_id == "CA1" and call.agent_id == "A-7" and call.encoding == "mulaw"
    assert call.sample_rate == 8000 and call.debtor_tz == "America/New_York"
    conn2 = started({**PARAMS, "agent_track": "inbound", "call_id": "my-call"})
    assert conn2.start is not None
    assert conn2.start.legs["inbound"] is Leg.AGENT and conn2.start.call.call_id == "my-call"


def test_media_payload_is_base64_mulaw_of_the_track() -> None:
    conn = started()
    pcm = (np.sin(np.arange(160) / 5) * 8000).astype(np.int16)
    payload = mulaw_encode(pcm)
    msg = conn.on_text(json.dumps(media_message("MZ1", "inbound", 2, 1, 0, payload)))
    assert isinstance(msg, TwilioMedia)
    assert msg.leg is Leg.DEBTOR and msg.payload == payload and msg.gap_filled == 0
    msg = conn.on_text(json.dumps(media_message("MZ1", "outbound", 3, 1, 0, payload)))
    assert isinstance(msg, TwilioMedia) and msg.leg is Leg.AGENT


def test_timestamp_gap_is_filled_with_mulaw_silence() -> None:
    conn = started()
    conn.on_text(json.dumps(media_message("MZ1", "inbound", 2, 1, 0, b"\x11" * 160)))
    msg = conn.on_text(json.dumps(media_message("MZ1", "inbound", 3, 2, 520, b"\x22" * 160)))
    assert isinstance(msg, TwilioMedia)
    assert msg.gap_filled == 4160 - 160
    assert msg.payload == b"\xff" * 4000 + b"\x22" * 160
    # a small jitter is not a gap
    msg = conn.on_text(json.dumps(media_message("MZ1", "inbound", 4, 3, 560, b"\x33" * 160)))
    assert isinstance(msg, TwilioMedia) and msg.gap_filled == 0


def test_mark_dtmf_and_stop() -> None:
    conn = started()
    mark = {"event": "mark", "sequenceNumber": "2", "streamSid": "MZ1", "mark": {"name": "m"}}
    assert isinstance(conn.on_text(json.dumps(mark)), TwilioOther)
    dtmf = {
        "event": "dtmf",
        "sequenceNumber": "3",
        "streamSid": "MZ1",
        "dtmf": {"track": "inbound_track", "digit": "1"},
    }
    assert isinstance(conn.on_text(json.dumps(dtmf)), TwilioOther)
    stop = {
        "event": "stop",
        "sequenceNumber": "4",
        "streamSid": "MZ1",
        "stop": {"accountSid": "AC", "callSid": "CA1"},
    }
    assert isinstance(conn.on_text(json.dumps(stop)), TwilioStop)
    with pytest.raises(IngestProtocolError, match="media event received while stopped"):
        conn.on_text(json.dumps(media_message("MZ1", "inbound", 5, 1, 0, b"\x00")))


@pytest.mark.parametrize(
    ("message", "needle"),
    [
        (
            media_message("MZ1", "inbound", 2, 1, 0, b"\x00")
            | {"media": {"track": "inbound", "payload": "@@@"}},
            "not valid base64",
        ),
        (media_message("MZ1", "both", 2, 1, 0, b"\x00"), "track 'both' was not announced"),
        (media_message("MZ1", "inbound", 1, 1, 0, b"\x00"), "sequenceNumber 1 does not follow 1"),
        ({"event": "media", "sequenceNumber": "2"}, "missing 'media'"),
        ({"event": "bogus"}, "unknown Twilio event 'bogus'"),
        ({"sequenceNumber": "2"}, "without an 'event'"),
    ],
)
def test_media_violations(message: dict[str, object], needle: str) -> None:
    conn = started()
    with pytest.raises(IngestProtocolError, match=needle):
        conn.on_text(json.dumps(message))


def test_start_violations() -> None:
    conn = TwilioConnection()
    with pytest.raises(IngestProtocolError, match="media event received while awaiting start"):
        conn.on_text(json.dumps(media_message("MZ1", "inbound", 1, 1, 0, b"\x00")))
    bad = start_message("MZ1", "CA1", PARAMS)
    bad["start"]["mediaFormat"]["sampleRate"] = 16000
    with pytest.raises(IngestProtocolError, match="audio/x-mulaw 8000 Hz mono") as err:
        TwilioConnection().on_text(json.dumps(bad))
    assert err.value.close_code == 1003
    with pytest.raises(IngestProtocolError, match="agent_id"):
        TwilioConnection().on_text(json.dumps(start_message("MZ1", "CA1", {})))
    with pytest.raises(IngestProtocolError, match="tracks"):
        TwilioConnection().on_text(json.dumps(start_message("MZ1", "CA1", PARAMS, tracks=("both_tracks",))))
    conn = started()
    with pytest.raises(IngestProtocolError, match="start event received while streaming"):
        conn.on_text(json.dumps(start_message("MZ1", "CA1", PARAMS, seq=9)))
    assert base64  # module used by media_message
