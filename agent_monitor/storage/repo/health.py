"""Signal-health events of a call's legs, stored from the data model's :class:`LegHealth`."""

from __future__ import annotations

import math

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent_monitor.errors import InvalidRecordError
from agent_monitor.model.audio import Leg
from agent_monitor.model.health import HealthIssue, LegHealth
from agent_monitor.storage.repo.calls import get_call
from agent_monitor.storage.tables import SignalHealthRow


def save_signal_health(session: Session, call_id: str, t: float, health: LegHealth) -> SignalHealthRow:
    """Store one health issue of a leg starting or clearing at call time ``t``."""
    get_call(session, call_id)
    if not math.isfinite(t) or t < 0:
        raise InvalidRecordError(f"signal health at {t!r} s: call time must be a finite number >= 0")
    figures = {str(k): float(v) for k, v in health.figures.items()}
    if not all(math.isfinite(v) for v in figures.values()):
        raise InvalidRecordError(f"signal health {health.issue}: figures must be finite numbers")
    row = SignalHealthRow(
        call_id=call_id,
        leg=Leg(health.leg),
        issue=HealthIssue(health.issue),
        active=bool(health.active),
        t_s=float(t),
        message=health.message,
        figures=figures,
    )
    session.add(row)
    session.flush()
    return row


def list_signal_health(session: Session, call_id: str, *, leg: Leg | None = None) -> list[SignalHealthRow]:
    """The call's health events in call-clock order."""
    stmt = (
        select(SignalHealthRow)
        .where(SignalHealthRow.call_id == call_id)
        .order_by(SignalHealthRow.t_s, SignalHealthRow.id)
    )
    if leg is not None:
        stmt = stmt.where(SignalHealthRow.leg == leg)
    return list(session.scalars(stmt))


def to_leg_health(row: SignalHealthRow) -> LegHealth:
    """The data-model :class:`LegHealth` of a stored row."""
    return LegHealth(
        leg=row.leg,
        issue=row.issue,
        active=row.active,
        message=row.message,
        figures={str(k): float(v) for k, v in (row.figures or {}).items()},
    )
