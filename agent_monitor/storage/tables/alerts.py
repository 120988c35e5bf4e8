"""Alerts, their append-only event chain (state changes, handoff steps) and handoffs.

``alerts`` and ``alert_events`` are hash chains (see :mod:`agent_monitor.storage.chain`): the
columns listed in ``HASHED`` never change after insert. An alert's ``state`` and ``*_by``/``*_at``
columns, and a handoff's columns, are a convenience copy of what the alert's events say;
:func:`~agent_monitor.storage.integrity.verify_chains` checks that copy against the events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, CheckConstraint, Double, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from agent_monitor.model.levels import WarningLevel
from agent_monitor.storage.base import SHA256_HEX, Base, in_check
from agent_monitor.storage.enums import AlertAction, AlertState
from agent_monitor.storage.types import StrEnumType, UTCDateTime


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint(in_check("level", list(WarningLevel)), name="level"),
        CheckConstraint(in_check("state", list(AlertState)), name="state"),
        Index("ix_alerts_key", "key", unique=True),
    )
    HASHED: ClassVar[tuple[str, ...]] = (
        "id",
        "call_id",
        "level",
        "reasons",
        "raised_at_s",
        "raised_at",
        "prev_hash",
    )

    #: the position in the hash chain: 1, 2, 3, ... without gaps
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id"), index=True)
    level: Mapped[WarningLevel] = mapped_column(StrEnumType(WarningLevel))
    #: why: a JSON list of objects (rule hits, stress readings) as the fusion policy reported them
    reasons: Mapped[list[Any]] = mapped_column(JSON)
    #: call-clock seconds when the alert was raised
    raised_at_s: Mapped[float] = mapped_column(Double)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    prev_hash: Mapped[str] = mapped_column(String(SHA256_HEX))
    row_hash: Mapped[str] = mapped_column(String(SHA256_HEX), unique=True)
    #: the id the live pipeline gave the alert before storing it (a uuid): a replayed write finds
    #: the row instead of adding a second one; not hashed (it names the alert, it is no evidence)
    key: Mapped[str | None] = mapped_column(String(36))

    # --- derived from the alert's events (checked by verify_chains) ---
    state: Mapped[AlertState] = mapped_column(StrEnumType(AlertState), default=AlertState.RAISED)
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AlertEvent(Base):
    """One step in an alert's life; append-only, hash-chained across all alerts."""

    __tablename__ = "alert_events"
    __table_args__ = (CheckConstraint(in_check("action", list(AlertAction)), name="action"),)
    HASHED: ClassVar[tuple[str, ...]] = (
        "id",
        "alert_id",
        "action",
        "actor",
        "at",
        "at_s",
        "note",
        "prev_hash",
    )

    #: the position in the hash chain: 1, 2, 3, ... without gaps
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    action: Mapped[AlertAction] = mapped_column(StrEnumType(AlertAction))
    #: the username who acted, or ``system`` for automatic steps (escalation)
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: call-clock seconds, when the step happened during the call
    at_s: Mapped[float | None] = mapped_column(Double)
    note: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(SHA256_HEX))
    row_hash: Mapped[str] = mapped_column(String(SHA256_HEX), unique=True)


class Handoff(Base):
    """A high-sensitivity call handed to supervisors (one per red alert)."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id"), index=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), unique=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    taken_over_by: Mapped[str | None] = mapped_column(String(100))
    taken_over_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
