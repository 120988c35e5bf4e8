"""What other processes wrote to Redis, decoded one entry at a time.

Redis replies are read as bytes (a client without ``decode_responses``): a client that decodes
them fails on the whole reply when one value is not UTF-8, and one bad entry would then stop every
reader of the stream or every registry round. Each entry is decoded here on its own, with
:func:`~agent_monitor.strict_json.loads_strict`; the caller treats any exception for one entry as
that entry being malformed (logged, counted and passed over), never as a failure of the rest.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from agent_monitor.errors import EventFormatError
from agent_monitor.model.event_codec import event_from_dict
from agent_monitor.model.events import Event
from agent_monitor.strict_json import loads_strict

__all__ = ["STREAM_ID", "entry_event", "entry_origin", "stream_id_fits", "text"]

#: a Redis Stream id as clients pass it (``MS-SEQ``)
STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
_U64 = 2**64


def stream_id_fits(sid: str) -> bool:
    """Whether ``sid`` is a stream id whose two parts fit in 64 bits (Redis refuses others)."""
    if not STREAM_ID.match(sid):
        return False
    return all(int(part) < _U64 for part in sid.split("-"))


def text(value: bytes | str) -> str:
    """A Redis value as text; :class:`EventFormatError` if it is not UTF-8."""
    if isinstance(value, str):
        return value
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise EventFormatError("a value is not UTF-8 text") from None


def _field(fields: Mapping[bytes, bytes] | Mapping[str, str], name: str) -> bytes | str:
    for key, value in fields.items():
        if key == name or key == name.encode():
            return value
    raise EventFormatError(f"no {name!r} field")


def entry_origin(fields: Mapping[bytes, bytes] | Mapping[str, str]) -> tuple[str, int]:
    """The publishing process (``node``) and its sequence number (``seq``) of a stream entry."""
    seq = text(_field(fields, "seq"))
    if not seq.isascii() or not seq.isdigit() or len(seq) > 20:
        raise EventFormatError(f"seq {seq[:40]!r} is not a sequence number")
    return text(_field(fields, "node")), int(seq)


def entry_event(fields: Mapping[bytes, bytes] | Mapping[str, str]) -> Event:
    """The event of a stream entry (``event``: ``event.to_dict()`` as JSON)."""
    return event_from_dict(loads_strict(_field(fields, "event")))
