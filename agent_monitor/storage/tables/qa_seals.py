"""The sealed versions of finished QA reviews: a hash chain of their own.

A review changes while it is a draft, and a finished one can be reopened and finished again, so
it cannot be hash-chained itself. Instead every transaction that finishes a review, or changes a
finished one, appends here the review's canonical content as it was committed and its sha256
(:mod:`agent_monitor.storage.review_seal`); ``db verify`` compares every review with the newest
row for it. Rows are never rewritten, so every earlier sealed version stays readable and checked.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from agent_monitor.model.identifiers import MAX_ID_CHARS
from agent_monitor.storage.base import SHA256_HEX, Base, in_check
from agent_monitor.storage.types import UTCDateTime

#: ``finished``: the review was finished (or finished again) with this content; ``reopened``: a
#: finished review was saved as a draft (its content then); ``upgrade``: a review finished before
#: reviews were sealed, sealed as it was found by migration 0011
REVIEW_SEAL_EVENTS = ("finished", "reopened", "upgrade")


class QaReviewSeal(Base):
    __tablename__ = "qa_review_seals"
    __table_args__ = (CheckConstraint(in_check("event", REVIEW_SEAL_EVENTS), name="event"),)
    HASHED: ClassVar[tuple[str, ...]] = (
        "id",
        "review_id",
        "call_id",
        "reviewer",
        "event",
        "digest",
        "content",
        "at",
        "prev_hash",
    )

    #: the position in the hash chain: 1, 2, 3, ... without gaps
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    #: ``qa_reviews.id`` (no foreign key: a sealed review deleted is reported, not prevented)
    review_id: Mapped[int] = mapped_column(Integer, index=True)
    call_id: Mapped[str] = mapped_column(String(MAX_ID_CHARS), index=True)
    reviewer: Mapped[str] = mapped_column(String(100))
    #: one of :data:`REVIEW_SEAL_EVENTS`
    event: Mapped[str] = mapped_column(String(16))
    #: sha256 of ``content`` (UTF-8)
    digest: Mapped[str] = mapped_column(String(SHA256_HEX))
    #: the review's canonical JSON (see agent_monitor.storage.review_seal.review_content)
    content: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    prev_hash: Mapped[str] = mapped_column(String(SHA256_HEX))
    row_hash: Mapped[str] = mapped_column(String(SHA256_HEX), unique=True)
