"""The closed vocabularies stored in the database (stored as their lower-case string values).

The ones the data model owns (hit status, warning level, role) are defined there and listed here."""

from __future__ import annotations

from enum import StrEnum

from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.roles import Role
from agent_monitor.model.rules import HitStatus

__all__ = [
    "AlertAction",
    "AlertState",
    "CallStatus",
    "HitStatus",
    "QaState",
    "Role",
    "Verdict",
    "WarningLevel",
]


class CallStatus(StrEnum):
    LIVE = "live"
    ENDED = "ended"
    ABORTED = "aborted"


class AlertState(StrEnum):
    RAISED = "raised"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class AlertAction(StrEnum):
    """An entry of the append-only alert event chain (state changes and handoff steps)."""

    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    HANDOFF_REQUESTED = "handoff_requested"
    ESCALATED = "escalated"
    TAKEN_OVER = "taken_over"


class Verdict(StrEnum):
    """A QA reviewer's verdict on one alert."""

    CONFIRMED = "confirmed"
    FALSE_ALARM = "false_alarm"


class QaState(StrEnum):
    PENDING = "pending"
    IN_REVIEW = "in_review"
    DONE = "done"
