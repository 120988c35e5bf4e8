"""Decoding one entry another process wrote to Redis: every way it can be unreadable is one
:class:`EventFormatError` (or another exception of that entry alone), never a crash of its reader."""

from __future__ import annotations

import math

import pytest

from agent_monitor.cluster.entries import entry_event, entry_origin, stream_id_fits
from agent_monitor.errors import EventFormatError
from agent_monitor.model.event_codec import event_from_dict

TRANSCRIPT = {
    "type": "transcript",
    "call_id": "c",
    "t": 0.0,
    "leg": "agent",
    "utterance": 1,
    "start": 0.0,
    "end": 1.0,
    "text": "x",
    "final": True,
    "words": [],
    "lang": "en",
}


@pytest.mark.parametrize(
    ("field", "value"), [("utterance", math.inf), ("t", math.inf), ("start", math.nan), ("end", -math.inf)]
)
def test_non_finite_numbers_are_an_event_format_error(field: str, value: float) -> None:
    assert event_from_dict(TRANSCRIPT).transcript.utterance == 1  # type: ignore[attr-defined]
    with pytest.raises(EventFormatError):
        event_from_dict({**TRANSCRIPT, field: value})


def test_an_entry_is_decoded_from_bytes_strictly() -> None:
    good = {
        b"node": b"n1",
        b"seq": b"7",
        b"event": b'{"type":"transcript","call_id":"c","t":0,'
        b'"leg":"agent","utterance":1,"start":0,"end":1,"text":"x","final":true,"words":[],"lang":"en"}',
    }
    assert entry_origin(good) == ("n1", 7)
    assert entry_event(good).call_id == "c"
    with pytest.raises(ValueError, match="out of range"):
        entry_event({**good, b"event": good[b"event"].replace(b'"utterance":1', b'"utterance":1e999')})
    with pytest.raises(ValueError, match="UTF-8"):
        entry_event({**good, b"event": b"\xff"})
    with pytest.raises(EventFormatError):
        entry_origin({**good, b"node": b"\xff"})
    with pytest.raises(EventFormatError):
        entry_origin({**good, b"seq": b"1.5"})


def test_stream_ids_must_fit_in_64_bits() -> None:
    assert stream_id_fits("1733000000000-0")
    assert stream_id_fits("18446744073709551615-18446744073709551615")
    assert not stream_id_fits("18446744073709551616-0")
    assert not stream_id_fits("99999999999999999999-0")
    assert not stream_id_fits("1-2-3")
