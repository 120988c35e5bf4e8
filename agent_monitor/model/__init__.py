"""The data model every stage speaks: frozen dataclasses, one time unit.

**Time:** every time on the call clock is a ``float`` number of **seconds since the start of the
call** (the first sample of the leg's audio is t = 0.0). Wall-clock instants are timezone-aware
``datetime`` objects in UTC. Audio travels as 16-bit little-endian mono PCM ``bytes``.

Stage packages (``asr``, ``emotion``, ``qa_rules``, ``web``) exchange only these types.
"""

from agent_monitor.model.audio import AudioFrame, Leg, SpeechSegment
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.roles import Role
from agent_monitor.model.transcript import Transcript, Word

__all__ = ["AudioFrame", "Leg", "Role", "SpeechSegment", "Transcript", "WarningLevel", "Word"]
