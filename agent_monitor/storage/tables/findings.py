"""What the analysis found: rule hits on transcripts and the debtor's stress timeline.

Rows mirror :class:`agent_monitor.model.rules.RuleHit` and
:class:`agent_monitor.model.stress.StressSample` (call-clock seconds).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Double, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from agent_monitor.model.audio import Leg
from agent_monitor.model.stress import BaselineStatus, StressLevel
from agent_monitor.storage.base import Base, in_check
from agent_monitor.storage.enums import HitStatus
from agent_monitor.storage.types import StrEnumType, UTCDateTime, utcnow


class RuleHitRow(Base):
    __tablename__ = "rule_hits"
    __table_args__ = (
        CheckConstraint(in_check("status", list(HitStatus)), name="status"),
        CheckConstraint(in_check("leg", list(Leg)), name="leg"),
        Index("ix_rule_hits_key", "key", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id"), index=True)
    #: the id the live pipeline gave the hit before storing it (a uuid): replayed writes find it
    key: Mapped[str | None] = mapped_column(String(36))
    #: the stored utterance the evidence is in, when there is one
    utterance_id: Mapped[int | None] = mapped_column(ForeignKey("utterances.id"), index=True)
    #: the utterance number on its leg (``RuleHit.utterance``)
    utterance_no: Mapped[int | None] = mapped_column(Integer)
    #: ``None`` for findings about the whole call (calling hours, frequency)
    leg: Mapped[Leg | None] = mapped_column(StrEnumType(Leg))
    rule_id: Mapped[str] = mapped_column(String(100), index=True)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(64))
    #: ``info``, ``yellow``, ``orange`` or ``red`` (:class:`agent_monitor.model.rules.Severity`)
    severity: Mapped[str] = mapped_column(String(32))
    #: character offsets of the evidence in the utterance text, end exclusive
    span_start: Mapped[int | None] = mapped_column(Integer)
    span_end: Mapped[int | None] = mapped_column(Integer)
    evidence: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    citation: Mapped[str] = mapped_column(Text)
    #: the compliant wording the agent is shown
    compliant: Mapped[str | None] = mapped_column(Text)
    #: call-clock seconds of the evidence words, when known
    start_s: Mapped[float | None] = mapped_column(Double)
    end_s: Mapped[float | None] = mapped_column(Double)
    status: Mapped[HitStatus] = mapped_column(StrEnumType(HitStatus), default=HitStatus.PROVISIONAL)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StressSampleRow(Base):
    __tablename__ = "stress_samples"
    __table_args__ = (
        CheckConstraint("score >= 0 AND score <= 100", name="score_range"),
        CheckConstraint(in_check("leg", list(Leg)), name="leg"),
        CheckConstraint(in_check("level", list(StressLevel)), name="level"),
        CheckConstraint(in_check("baseline", list(BaselineStatus)), name="baseline"),
        Index("ix_stress_samples_call_leg_t", "call_id", "leg", "t_s"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id"))
    leg: Mapped[Leg] = mapped_column(StrEnumType(Leg))
    #: call-clock seconds (end of the analysed window)
    t_s: Mapped[float] = mapped_column(Double)
    #: smoothed score 0-100 the level is decided on
    score: Mapped[float] = mapped_column(Double)
    level: Mapped[StressLevel] = mapped_column(StrEnumType(StressLevel))
    baseline: Mapped[BaselineStatus] = mapped_column(StrEnumType(BaselineStatus))
    #: this window's own score, ``None`` when it held too little speech
    raw: Mapped[float | None] = mapped_column(Double)
    speech_s: Mapped[float] = mapped_column(Double, default=0.0)
