"""Web sign-in sessions ended before their expiry (logout), kept across restarts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from agent_monitor.storage.base import Base
from agent_monitor.storage.types import UTCDateTime


class RevokedSession(Base):
    __tablename__ = "revoked_sessions"

    #: the random session id inside the signed cookie
    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(100), index=True)
    #: the cookie's own expiry: the row can be removed after it
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime())
