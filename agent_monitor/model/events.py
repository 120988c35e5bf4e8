"""Typed events of the live pipeline: everything a call produces travels on the event bus as one of these.

Every event is a frozen dataclass with the ``call_id`` it belongs to and ``t``, the call-clock time
in seconds it refers to (for a rule hit: the end of the evidence; for an alert: the time of the
evidence that raised it; for timer events such as an escalation: the call time at which it fired,
measured on the wall clock from the call's start). ``to_dict()`` gives the JSON form, with
``type`` naming the event (``call_started``, ``alert_raised``, ...).

``critical`` events (call life cycle, hits, levels, alerts, warnings, handoffs, QA) are never
dropped by a bus; the others (transcripts, stress updates, audio-drop notices) may be dropped for a
slow subscriber (see :mod:`agent_monitor.pipeline.bus`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, ClassVar

from agent_monitor.model.audio import Leg
from agent_monitor.model.health import LegHealth
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.rules import HitStatus, RequiredDisclosure, RuleHit
from agent_monitor.model.session import CallInfo, LevelReason
from agent_monitor.model.stress import StressSample
from agent_monitor.model.transcript import Transcript


def _json(value: Any) -> Any:
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(_json(k)): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Event:
    """Base of all pipeline events."""

    type: ClassVar[str] = "event"
    #: never dropped by a bus, whatever the subscriber's backlog
    critical: ClassVar[bool] = True

    call_id: str
    t: float

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        for f in dataclasses.fields(self):
            out[f.name] = _json(getattr(self, f.name))
        return out


@dataclass(frozen=True, slots=True)
class CallStarted(Event):
    type: ClassVar[str] = "call_started"
    info: CallInfo
    resumed: bool = False


@dataclass(frozen=True, slots=True)
class CallEnded(Event):
    """The call stopped; ``status`` is ``ended`` (stop message) or ``aborted`` (anything else)."""

    type: ClassVar[str] = "call_ended"
    status: str
    reason: str
    level: WarningLevel
    duration_s: float
    dropped_chunks: int = 0


@dataclass(frozen=True, slots=True)
class TranscriptEvent(Event):
    """A partial or final transcript of one utterance of one leg."""

    type: ClassVar[str] = "transcript"
    critical: ClassVar[bool] = False
    transcript: Transcript

    @property
    def final(self) -> bool:
        return self.transcript.final

    def to_dict(self) -> dict[str, Any]:
        tr = self.transcript
        return {
            "type": self.type,
            "call_id": self.call_id,
            "t": self.t,
            "leg": tr.leg.value,
            "utterance": tr.utterance,
            "start": tr.start,
            "end": tr.end,
            "text": tr.text,
            "final": tr.final,
            "lang": tr.lang,
            "speech_s": tr.speech_s,
            "words": [{"text": w.text, "start": w.start, "end": w.end, "conf": w.conf} for w in tr.words],
        }


@dataclass(frozen=True, slots=True)
class RuleHitEvent(Event):
    """A rule hit was seen (provisional), settled (confirmed) or dropped (withdrawn).

    ``hit_key`` is the key (a uuid) its stored rule-hit row carries (the row is written by the
    outbox, without waiting); ``hit_id`` the row's id where it is known (analysed files)."""

    type: ClassVar[str] = "rule_hit"
    status: HitStatus
    hit: RuleHit
    hit_id: int | None = None
    hit_key: str | None = None


@dataclass(frozen=True, slots=True)
class StressUpdate(Event):
    """A stress reading of a leg (normally the debtor's), one per hop."""

    type: ClassVar[str] = "stress"
    critical: ClassVar[bool] = False
    sample: StressSample


@dataclass(frozen=True, slots=True)
class LevelChanged(Event):
    """The call's level rose from ``previous`` to ``level`` for ``reasons``."""

    type: ClassVar[str] = "level_changed"
    level: WarningLevel
    previous: WarningLevel
    reasons: tuple[LevelReason, ...]


@dataclass(frozen=True, slots=True)
class AlertRaised(Event):
    """An alert for a level rise; red alerts are high-sensitivity. Published at once, whatever the
    database does: ``alert_key`` (a uuid) names it from the start, ``alert_id`` is its stored id
    when the row was written in time, else ``None`` (an :class:`AlertStored` follows)."""

    type: ClassVar[str] = "alert_raised"
    alert_id: int | None
    level: WarningLevel
    reasons: tuple[LevelReason, ...]
    agent_id: str
    high_sensitivity: bool = False
    alert_key: str = ""


@dataclass(frozen=True, slots=True)
class AlertStored(Event):
    """The alert published as ``alert_key`` without an id (the database was unavailable) is now
    stored as ``alert_id`` (supervisors can act on it)."""

    type: ClassVar[str] = "alert_stored"
    alert_id: int
    alert_key: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class AgentWarning(Event):
    """An on-screen warning for the agent: what they said (or failed to say) and what to say instead;
    or a cue from the debtor leg (``leg`` debtor): what the person said that changes what the agent
    may say ("wrong number": nothing about the debt) and the wording to use."""

    type: ClassVar[str] = "agent_warning"
    agent_id: str
    rule: str
    title: str
    severity: str
    evidence: str
    reason: str
    compliant: str | None
    hit_status: HitStatus
    #: the law or policy the rule cites
    citation: str = ""
    #: whose words the evidence is: the agent's (or ``None``, a finding about the call) or, for a
    #: cue, the debtor's
    leg: Leg | None = Leg.AGENT


@dataclass(frozen=True, slots=True)
class DisclosureChecklist(Event):
    """The agent's checklist of required disclosures changed (one was said, or its time ran out);
    ``items`` is the whole list, in the pack's order."""

    type: ClassVar[str] = "disclosure_checklist"
    agent_id: str
    items: tuple[RequiredDisclosure, ...]


@dataclass(frozen=True, slots=True)
class HandoffRequested(Event):
    """A red (high-sensitivity) call is handed to supervisors; escalated after ``escalate_after_s``."""

    type: ClassVar[str] = "handoff_requested"
    alert_id: int
    agent_id: str
    escalate_after_s: float


@dataclass(frozen=True, slots=True)
class HandoffEscalated(Event):
    """Nobody acknowledged the handoff in time."""

    type: ClassVar[str] = "handoff_escalated"
    alert_id: int
    agent_id: str
    waited_s: float


@dataclass(frozen=True, slots=True)
class AlertStateChanged(Event):
    """An alert was acknowledged, resolved or taken over (``state``) by ``by``."""

    type: ClassVar[str] = "alert_state"
    alert_id: int
    state: str
    by: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class QaQueued(Event):
    """The call was queued for QA review at ``level``."""

    type: ClassVar[str] = "qa_queued"
    level: WarningLevel
    reason: str


@dataclass(frozen=True, slots=True)
class AudioDropped(Event):
    """Audio of a leg was dropped because recognition fell behind (the recording keeps it).

    ``chunks``/``seconds`` are this leg's totals so far."""

    type: ClassVar[str] = "audio_dropped"
    critical: ClassVar[bool] = False
    leg: Leg
    chunks: int
    seconds: float


@dataclass(frozen=True, slots=True)
class SignalHealth(Event):
    """A leg's signal health changed: an issue started or cleared (see :mod:`agent_monitor.model.health`).

    Critical: people must know when the monitor cannot hear."""

    type: ClassVar[str] = "signal_health"
    health: LegHealth


#: every event type by its ``type`` name
EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        CallStarted,
        CallEnded,
        TranscriptEvent,
        RuleHitEvent,
        StressUpdate,
        LevelChanged,
        AlertRaised,
        AlertStored,
        AgentWarning,
        DisclosureChecklist,
        HandoffRequested,
        HandoffEscalated,
        AlertStateChanged,
        QaQueued,
        AudioDropped,
        SignalHealth,
    )
}
