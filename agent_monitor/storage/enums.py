"""The closed vocabularies stored in the database (stored as their lower-case string values)."""

from __future__ import annotations

from enum import StrEnum

from agent_monitor.model.rules import HitStatus

__all__ = [
    "AlertAction",
    "AlertState",
    "CallStatus",
    "HitStatus",
    "Level",
    "QaState",
    "Role",
    "Verdict",
]


class Role(StrEnum):
    """What a user of the web application may do."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    QA = "qa"
    ADMIN = "admin"


class CallStatus(StrEnum):
    LIVE = "live"
    ENDED = "ended"
    ABORTED = "aborted"


class Level(StrEnum):
    """Warning level of an alert or a call, in increasing order of severity."""

    NONE = "none"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"

    @property
    def rank(self) -> int:
        return _LEVEL_RANK[self]


_LEVEL_RANK = {Level.NONE: 0, Level.YELLOW: 1, Level.ORANGE: 2, Level.RED: 3}


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
