"""Limits of the ingest protocols against hostile input (issue #15): clock jumps, sizes, numbers."""

from __future__ import annotations

import json
import uuid

import pytest

from agent_monitor.errors import IngestProtocolError, RegistrationLimitError
from agent_monitor.ingest.audiosocket import LegRegistry
from agent_monitor.ingest.twilio import (
    MULAW_SILENCE,
    TwilioConnection,
    TwilioMedia,
    media_message,
    start_message,
)
from agent_monitor.ingest.ws_ingest import StartMessage
from agent_monitor.model.audio import Leg
from agent_monitor.pipeline.audio_in import LegInbox

CONNECTED = '{"event": "connected", "protocol": "Call", "version": "1.0.0"}'


def started(max_gap_s: float = 10.0) -> TwilioConnection:
    conn = TwilioConnection(max_gap_s=max_gap_s)
    conn.on_text(CONNECTED)
    conn.on_text(json.dumps(start_message("MZ1", "CA1", {"agent_id": "A-7"})))
    return conn


def test_a_timestamp_jump_fills_at_most_the_leg_queue_and_counts_the_rest_dropped() -> None:
    conn = started(max_gap_s=10.0)
    first = conn.on_text(json.dumps(media_message("MZ1", "inbound", 2, 1, 0, b"\x00" * 160)))
    assert isinstance(first, TwilioMedia) and first.gap_filled == 0
    jump = conn.on_text(json.dumps(media_message("MZ1", "inbound", 3, 2, 1_000_000_000, b"\x00" * 160)))
    assert isinstance(jump, TwilioMedia)
    assert jump.gap_filled == 80_000  # 10 s at 8 kHz, no more
    assert len(jump.payload) == 80_000 + 160 and jump.payload[:80_000] == bytes([MULAW_SILENCE]) * 80_000
    assert jump.gap_dropped == 1_000_000_000 * 8 - 160 - 80_000
    # the track's clock moved to the timestamp: the next frame in sequence is no gap
    nxt = conn.on_text(json.dumps(media_message("MZ1", "inbound", 4, 3, 1_000_000_020, b"\x00" * 160)))
    assert isinstance(nxt, TwilioMedia) and nxt.gap_filled == 0 and nxt.gap_dropped == 0


@pytest.mark.parametrize("stamp", ["-5", "1" * 20, "1e9", 1.5, True, [1], "NaN"])
def test_nonsense_timestamps_are_protocol_errors(stamp: object) -> None:
    conn = started()
    message = media_message("MZ1", "inbound", 2, 1, 0, b"\x00" * 160)
    message["media"]["timestamp"] = stamp
    with pytest.raises(IngestProtocolError, match="timestamp"):
        conn.on_text(json.dumps(message))


def test_an_infinite_sequence_number_is_a_protocol_error() -> None:
    conn = started()
    message = media_message("MZ1", "inbound", 2, 1, 0, b"\x00" * 160)
    text = json.dumps(message).replace('"sequenceNumber": "2"', '"sequenceNumber": 1e999')
    with pytest.raises(IngestProtocolError):
        conn.on_text(text)


def test_inbox_counts_audio_dropped_before_it_arrived() -> None:
    inbox = LegInbox(8000, 1.0)
    inbox.count_dropped(8000 * 3600)
    assert inbox.dropped_samples == 8000 * 3600 and inbox.dropped_chunks == 1
    assert inbox.queued_samples == 0
    inbox.count_dropped(0)
    assert inbox.dropped_chunks == 1


def _call(call_id: str) -> StartMessage:
    return StartMessage(type="start", call_id=call_id, agent_id="A-1", sample_rate=8000, encoding="L16")


def test_audiosocket_registrations_expire() -> None:
    now = [1000.0]
    registry = LegRegistry(ttl_s=60.0, max_entries=100, clock=lambda: now[0])
    first, second = uuid.uuid4(), uuid.uuid4()
    registry.register(first, _call("c1"), Leg.AGENT)
    now[0] += 30
    registry.register(second, _call("c2"), Leg.AGENT)
    now[0] += 31  # the first is 61 s old, the second 31 s
    assert len(registry) == 1
    assert registry.claim(first) is None
    target = registry.claim(second)
    assert target is not None and target.call.call_id == "c2"
    # a claim keeps the registration for another ttl_s (a leg may reconnect), then it goes
    now[0] += 59
    assert registry.claim(second) == target
    now[0] += 61
    assert registry.claim(second) is None and len(registry) == 0
    # the server holds a registration again when its leg's connection ends, even one that expired
    registry.hold(second, target)
    now[0] += 59
    assert registry.claim(second) == target


def test_audiosocket_registrations_are_bounded() -> None:
    now = [0.0]
    registry = LegRegistry(ttl_s=60.0, max_entries=3, clock=lambda: now[0])
    for n in range(3):
        registry.register(uuid.uuid4(), _call(f"c{n}"), Leg.AGENT)
    with pytest.raises(RegistrationLimitError):
        registry.register(uuid.uuid4(), _call("c3"), Leg.AGENT)
    now[0] += 61  # all expired: room again
    registry.register(uuid.uuid4(), _call("c4"), Leg.AGENT)
    assert len(registry) == 1
