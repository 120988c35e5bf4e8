"""``POST /api/admin/users/{username}/end-sessions``: sign a user out everywhere (admin, audited)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from agent_monitor.accounts.users import record
from agent_monitor.storage import repo
from agent_monitor.storage.types import utcnow
from web.auth.deps import AdminChange
from web.services import in_db, services_of

router = APIRouter(prefix="/api/admin", tags=["admin"])


class SessionsEnded(BaseModel):
    username: str
    ended_at: str


@router.post("/users/{username}/end-sessions", response_model=SessionsEnded)
async def end_sessions(request: Request, username: str, user: AdminChange) -> SessionsEnded:
    """End every session of ``username`` now (their open pages are signed out at the next request
    or websocket check); they can sign in again."""
    lifetime = services_of(request).settings.web.session_lifetime_s
    now = utcnow()

    def job(s: Any) -> SessionsEnded:
        name = repo.require_user(s, username).username  # as stored: the sessions carry that name
        repo.end_user_sessions(s, name, now + timedelta(seconds=lifetime), at=now)
        record(s, user.username, "sessions_ended", "user", name)
        return SessionsEnded(username=name, ended_at=now.isoformat())

    return await in_db(request, job)
