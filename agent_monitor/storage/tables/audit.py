"""The audit log: who replayed, downloaded, exported, logged in; append-only, hash-chained."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from agent_monitor.storage.base import SHA256_HEX, Base
from agent_monitor.storage.types import UTCDateTime


class AuditEntry(Base):
    __tablename__ = "audit_log"
    HASHED: ClassVar[tuple[str, ...]] = (
        "id",
        "actor",
        "action",
        "object_type",
        "object_id",
        "at",
        "detail",
        "prev_hash",
    )

    #: the position in the hash chain: 1, 2, 3, ... without gaps
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    #: username (or ``system``); a string, so the record survives the user's deletion
    actor: Mapped[str] = mapped_column(String(100), index=True)
    #: e.g. ``login``, ``login_failed``, ``replay``, ``download``, ``export``, ``user_add``
    action: Mapped[str] = mapped_column(String(50), index=True)
    #: e.g. ``call``, ``recording``, ``user``
    object_type: Mapped[str | None] = mapped_column(String(50))
    object_id: Mapped[str | None] = mapped_column(String(200), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(SHA256_HEX))
    row_hash: Mapped[str] = mapped_column(String(SHA256_HEX), unique=True)
