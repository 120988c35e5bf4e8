"""Quality assurance: the queue of flagged calls, reviews with a scorecard and per-alert verdicts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agent_monitor.model.levels import WarningLevel
from agent_monitor.storage.base import Base, in_check
from agent_monitor.storage.enums import QaState, Verdict
from agent_monitor.storage.types import StrEnumType, UTCDateTime, utcnow


class QaQueueItem(Base):
    __tablename__ = "qa_queue"
    __table_args__ = (
        CheckConstraint(in_check("state", list(QaState)), name="state"),
        CheckConstraint(in_check("level", list(WarningLevel)), name="level"),
        # "next in queue": the longest waiting entry of each level
        Index("ix_qa_queue_level_queued", "level", "queued_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id"), unique=True)
    level: Mapped[WarningLevel] = mapped_column(StrEnumType(WarningLevel), index=True)
    reason: Mapped[str] = mapped_column(Text)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    state: Mapped[QaState] = mapped_column(StrEnumType(QaState), default=QaState.PENDING, index=True)
    assigned_to: Mapped[str | None] = mapped_column(String(100), index=True)
    #: when the entry was last given to ``assigned_to`` (claimed by "next", taken, assigned, or a
    #: draft of theirs saved): a claim older than ``qa.claim_expiry_s`` without a draft lapses,
    #: unless the entry is held by a hand assignment (``assigned_by``)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: who gave the entry to ``assigned_to`` by hand ("Assigned to" by another user): a hand
    #: assignment never lapses; ``None`` for a claim the reviewer took themself ("next", "Take", a
    #: draft), which lapses. Kept while the entry stays with ``assigned_to``
    assigned_by: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class QaReview(Base):
    __tablename__ = "qa_reviews"
    __table_args__ = (UniqueConstraint("call_id", "reviewer"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(100))
    #: the filled scorecard: item key -> a score (0 .. the item's max), ``"na"`` or ``None`` (not
    #: scored yet), e.g. ``{"identification": 2, "disclosure": "na", "respect": null}``
    scorecard: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: a comment per item (required for a failed item when its form says so)
    comments: Mapped[dict[str, str] | None] = mapped_column(JSON)
    #: the form version the scorecard was filled on (``None``: a review from before forms existed)
    form_id: Mapped[int | None] = mapped_column(ForeignKey("qa_forms.id"), index=True)
    #: weighted score in percent over the scored items (N/A and not-scored items left out)
    score: Mapped[float | None] = mapped_column(Double)
    #: when the reviewer finished the review (every item scored; its score counts in the reports);
    #: ``None`` while it is a draft
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    verdicts: Mapped[list[QaVerdict]] = relationship(
        order_by="QaVerdict.alert_id", cascade="all, delete-orphan", passive_deletes=True
    )


class QaVerdict(Base):
    __tablename__ = "qa_verdicts"
    __table_args__ = (CheckConstraint(in_check("verdict", list(Verdict)), name="verdict"),)

    review_id: Mapped[int] = mapped_column(ForeignKey("qa_reviews.id", ondelete="CASCADE"), primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), primary_key=True, index=True)
    verdict: Mapped[Verdict] = mapped_column(StrEnumType(Verdict))
    note: Mapped[str | None] = mapped_column(Text)
