"""Ingest protocols: how live call audio reaches the server, parsed and validated.

Transport-free parsing lives here (the web application and the TCP server only move bytes):

- :mod:`.ws_ingest`: the documented ``/ws/ingest`` websocket protocol (JSON start message,
  binary audio frames, JSON stop message; same shape as FreeSWITCH mod_audio_fork / jambonz
  ``listen``).
- :mod:`.twilio`: Twilio Media Streams messages (``connected``, ``start``, ``media``, ``mark``,
  ``dtmf``, ``stop``).
- :mod:`.audiosocket`: Asterisk AudioSocket framing and the TCP server that joins one leg per
  connection into calls.
- :mod:`.client`: the sending side of the websocket protocols (``replay``, ``demo``, benchmark).
- :mod:`.capture`: an agent desktop's headset and call-audio devices as the two legs.

Every protocol violation is an :class:`~agent_monitor.errors.IngestProtocolError` whose message
becomes the close reason.
"""

from __future__ import annotations

#: websocket close reasons are limited to 123 bytes of UTF-8
MAX_CLOSE_REASON = 123


def close_reason(text: str) -> str:
    """``text`` shortened to fit a websocket close frame (123 bytes of UTF-8)."""
    data = text.encode("utf-8")
    if len(data) <= MAX_CLOSE_REASON:
        return text
    return data[: MAX_CLOSE_REASON - 3].decode("utf-8", errors="ignore") + "..."


#: the most characters of a protocol problem written to the log (it may quote what the client sent)
MAX_LOGGED_PROBLEM = 500


def logged_problem(problem: object) -> str:
    """A protocol problem as the log takes it: at most :data:`MAX_LOGGED_PROBLEM` characters (a
    client's 500 KB message type was quoted whole, one log line as large)."""
    text = str(problem)
    if len(text) <= MAX_LOGGED_PROBLEM:
        return text
    return f"{text[: MAX_LOGGED_PROBLEM - 40]}... ({len(text):,} characters in all)"
