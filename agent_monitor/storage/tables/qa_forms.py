"""QA scorecard forms as data: every edit of a form is a new, immutable version.

A review keeps the id of the form version it was scored on (``qa_reviews.form_id``), so later
edits never change the meaning of an old score."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from agent_monitor.model.scorecard import MAX_TITLE_CHARS
from agent_monitor.storage.base import Base
from agent_monitor.storage.types import UTCDateTime, utcnow


class QaForm(Base):
    __tablename__ = "qa_forms"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    #: 1, 2, 3, ... per name
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(MAX_TITLE_CHARS))
    #: the items: ``[{"key", "en", "zh", "weight", "max", "na_allowed", "comment_on_fail"}, ...]``
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
