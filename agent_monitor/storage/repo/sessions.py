"""Sign-in sessions ended by logout, kept in the database so a restart does not revive them."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agent_monitor.storage.tables import RevokedSession
from agent_monitor.storage.types import as_utc, utcnow


def revoke_session(session: Session, sid: str, username: str, expires_at: datetime) -> None:
    """End session ``sid`` (idempotent, also for two sign-outs of it at once); rows past their
    expiry are removed on the way."""
    now = utcnow()
    session.execute(delete(RevokedSession).where(RevokedSession.expires_at <= now))
    row = RevokedSession(
        sid=sid, username=username, expires_at=as_utc(expires_at, "expires_at"), revoked_at=now
    )
    _stored(session, row)


def _stored(session: Session, row: RevokedSession) -> RevokedSession | None:
    """Insert ``row`` unless its ``sid`` is stored; returns the stored row then (``None`` when
    ``row`` went in). Another request may insert the same ``sid`` at the same moment (a double
    click on Sign out, two admins ending one user's sessions): its row is returned then too."""
    found = session.get(RevokedSession, row.sid)
    if found is not None:
        return found
    try:
        with session.begin_nested():
            session.add(row)
        return None
    except IntegrityError:
        found = session.get(RevokedSession, row.sid, populate_existing=True)
        if found is None:  # pragma: no cover - the conflicting row vanished again
            raise
        return found


def session_revoked(session: Session, sid: str) -> bool:
    return session.scalar(select(RevokedSession.sid).where(RevokedSession.sid == sid)) is not None


def _all_sessions_sid(username: str) -> str:
    """The row standing for "every session of ``username`` issued up to ``revoked_at``"."""
    return "all:" + hashlib.sha256(username.encode("utf-8")).hexdigest()[:56]


def end_user_sessions(
    session: Session, username: str, expires_at: datetime, *, at: datetime | None = None
) -> None:
    """End every session of ``username`` issued up to ``at`` (now; kept to the microsecond on
    SQLite and PostgreSQL); ``expires_at``: when the longest-lived of them would have expired anyway
    (the row can go then). Signing in again afterwards, even within the same second, starts a
    session that stands."""
    when = as_utc(at)
    new = RevokedSession(
        sid=_all_sessions_sid(username), username=username, expires_at=as_utc(expires_at), revoked_at=when
    )
    row = _stored(session, new)
    if row is not None:
        row.revoked_at = max(as_utc(row.revoked_at), when)
        row.expires_at = max(as_utc(row.expires_at), as_utc(expires_at, "expires_at"))
    session.flush()


def sessions_ended(session: Session, username: str, issued_at: datetime) -> bool:
    """Whether an admin ended ``username``'s sessions at or after ``issued_at``, compared to the
    microsecond (the session token's issue time; a token from before it carried microseconds gives
    the start of its second, so one issued in the second of the end stays ended)."""
    ended = session.scalar(
        select(RevokedSession.revoked_at).where(RevokedSession.sid == _all_sessions_sid(username))
    )
    return ended is not None and as_utc(issued_at, "issued_at") <= as_utc(ended)
