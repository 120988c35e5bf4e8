"""Sign-in sessions ended by logout, kept in the database so a restart does not revive them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from agent_monitor.storage.tables import RevokedSession
from agent_monitor.storage.types import as_utc, utcnow


def revoke_session(session: Session, sid: str, username: str, expires_at: datetime) -> None:
    """End session ``sid`` (idempotent); rows past their expiry are removed on the way."""
    now = utcnow()
    session.execute(delete(RevokedSession).where(RevokedSession.expires_at <= now))
    if session.get(RevokedSession, sid) is None:
        session.add(
            RevokedSession(
                sid=sid, username=username, expires_at=as_utc(expires_at, "expires_at"), revoked_at=now
            )
        )
        session.flush()


def session_revoked(session: Session, sid: str) -> bool:
    return session.scalar(select(RevokedSession.sid).where(RevokedSession.sid == sid)) is not None
