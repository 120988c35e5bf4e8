"""Changes to users and sessions, each with its audit record (used by ``agent-monitor users``,
the admin API and sign-out). Every function works inside an open database session ``s``; the
caller commits. ``actor`` is who asked (a username, ``cli`` or ``demo``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agent_monitor.errors import ConflictError
from agent_monitor.storage import repo
from agent_monitor.storage.enums import Role


def record(
    s: Any,
    actor: str,
    action: str,
    object_type: str | None = None,
    object_id: str | None = None,
    **detail: Any,
) -> None:
    """Append one audit record (``detail``: what changed)."""
    repo.record_audit(
        s, actor[:100], action, object_type=object_type, object_id=object_id, detail=detail or None
    )


def add_user(
    s: Any,
    actor: str,
    username: str,
    password_hash: str,
    role: Role | str,
    *,
    agent_id: str | None = None,
    team: str | None = None,
) -> Any:
    """Create the user (an agent needs ``agent_id``; the username must be new, also when the
    same name is sent twice at once: decided under the audit lock)."""
    repo.lock_audit(s)
    row = repo.create_user(s, username, password_hash, Role(role), agent_id=agent_id, team=team)
    record(s, actor, "user_created", "user", username, role=str(Role(role)))
    return row


def change_password(s: Any, actor: str, username: str, password_hash: str) -> str:
    """Set a new password hash: every session of the user ends (their tokens carry the old one's
    fingerprint). Returns the stored username (``username`` may differ from it in case)."""
    row = repo.set_password(s, username, password_hash)
    record(s, actor, "password_changed", "user", row.username)
    return str(row.username)


def set_active(s: Any, actor: str, username: str, active: bool) -> str:
    """Activate or deactivate the user (a deactivated user cannot sign in; open sessions end). The
    last active admin cannot be deactivated (:class:`ConflictError`). Returns the stored username."""
    repo.lock_audit(s)  # two admins deactivating each other at once: one of them stays
    row = repo.require_user(s, username)
    username = row.username  # as stored: ``ADMIN`` for ``admin`` is not another admin
    if not active and Role(row.role) is Role.ADMIN and _other_active_admins(s, username) == 0:
        raise ConflictError("the last active admin cannot be deactivated")
    repo.set_user_active(s, username, active)
    record(s, actor, "user_activated" if active else "user_deactivated", "user", username)
    return username


@dataclass(frozen=True)
class UserChange:
    """Fields to change (``None``: unchanged); ``role`` replaces the role with ``agent_id``/``team``."""

    role: Role | None = None
    agent_id: str | None = None
    team: str | None = None
    active: bool | None = None
    password_hash: str | None = None


def update_user(s: Any, actor: str, username: str, change: UserChange) -> Any:
    """Apply ``change`` to the user in one audit record ``user_updated``; the last active admin
    cannot be demoted or deactivated (:class:`ConflictError`), also by two changes at once (decided
    under the audit lock)."""
    repo.lock_audit(s)
    row = repo.require_user(s, username)
    username = row.username  # as stored (the name given may differ in case), for the checks and audit
    current = Role(row.role)
    losing_admin = current is Role.ADMIN and (
        (change.role is not None and change.role is not Role.ADMIN) or change.active is False
    )
    if losing_admin and _other_active_admins(s, username) == 0:
        raise ConflictError("the last active admin cannot be demoted or deactivated")
    changes: dict[str, Any] = {}
    if change.role is not None:
        repo.set_user_role(s, username, change.role, agent_id=change.agent_id, team=change.team)
        changes.update(role=str(change.role), agent_id=change.agent_id, team=change.team)
    elif change.team is not None or change.agent_id is not None:
        agent_id = change.agent_id if change.agent_id is not None else row.agent_id
        team = change.team if change.team is not None else row.team
        repo.set_user_role(s, username, current, agent_id=agent_id, team=team)
        changes.update(agent_id=row.agent_id, team=row.team)
    if change.active is not None:
        repo.set_user_active(s, username, change.active)
        changes["active"] = change.active
    if change.password_hash is not None:
        repo.set_password(s, username, change.password_hash)
        changes["password"] = "changed"
    record(s, actor, "user_updated", "user", username, **changes)
    return row


def end_session(s: Any, sid: str, username: str, expires_at: datetime) -> None:
    """Record that session ``sid`` was ended (sign-out): a restarted server refuses it too."""
    repo.revoke_session(s, sid, username, expires_at)


def _other_active_admins(s: Any, username: str) -> int:
    return sum(1 for u in repo.list_users(s, role=Role.ADMIN, active=True) if u.username != username)
