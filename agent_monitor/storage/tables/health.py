"""Signal health of a call's legs: each issue starting or clearing (``LegHealth`` of the data model)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Double, ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from agent_monitor.model.audio import Leg
from agent_monitor.model.health import HealthIssue
from agent_monitor.storage.base import Base, in_check
from agent_monitor.storage.types import StrEnumType


class SignalHealthRow(Base):
    __tablename__ = "signal_health"
    __table_args__ = (
        CheckConstraint(in_check("leg", list(Leg)), name="leg"),
        CheckConstraint(in_check("issue", list(HealthIssue)), name="issue"),
        Index("ix_signal_health_call_t", "call_id", "t_s"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id"))
    leg: Mapped[Leg] = mapped_column(StrEnumType(Leg))
    issue: Mapped[HealthIssue] = mapped_column(StrEnumType(HealthIssue))
    #: the issue started (true) or cleared (false)
    active: Mapped[bool] = mapped_column(Boolean)
    #: call-clock seconds
    t_s: Mapped[float] = mapped_column(Double)
    #: the sentence people see
    message: Mapped[str] = mapped_column(Text)
    #: the measured values behind it (``LegHealth.figures``)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
