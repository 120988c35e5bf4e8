"""The audit log: every replay, download, export, login and user change (hash-chained)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent_monitor.errors import InvalidRecordError
from agent_monitor.storage import chain
from agent_monitor.storage.tables import AuditEntry
from agent_monitor.storage.types import as_utc


def record_audit(
    session: Session,
    actor: str,
    action: str,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
    detail: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append an audit record, e.g. ``record_audit(s, "qa1", "replay", object_type="recording",
    object_id="call-7/agent", detail={"ip": "10.0.0.5"})``. Commit soon: appending holds the
    audit chain's lock until the transaction ends."""
    if not actor or not action:
        raise InvalidRecordError("an audit record needs an actor and an action")
    entry = AuditEntry(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        at=as_utc(at),
        detail=dict(detail) if detail is not None else None,
    )
    chain.append(session, entry)
    return entry


def lock_audit(session: Session) -> None:
    """Take the audit chain's append lock now, held until the transaction ends. An audited change
    that is decided on what is stored (is the name taken? is this the last admin? does the team
    exist?) takes it before it looks: two such changes at once then take turns, and the second
    sees what the first did (it would take the lock anyway, later, to record itself)."""
    chain.lock_chain(session, AuditEntry.__tablename__)


def list_audit(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditEntry]:
    """Audit records matching every given filter, newest first (``until`` exclusive)."""
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    if actor is not None:
        stmt = stmt.where(AuditEntry.actor == actor)
    if action is not None:
        stmt = stmt.where(AuditEntry.action == action)
    if object_type is not None:
        stmt = stmt.where(AuditEntry.object_type == object_type)
    if object_id is not None:
        stmt = stmt.where(AuditEntry.object_id == object_id)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= as_utc(since, "since"))
    if until is not None:
        stmt = stmt.where(AuditEntry.at < as_utc(until, "until"))
    return list(session.scalars(stmt))
