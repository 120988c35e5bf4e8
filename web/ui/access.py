"""What the UI routes share: the services, W1's auth dependencies, scoped call loading, masking
and audit records."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Request
from starlette.requests import HTTPConnection

from agent_monitor.errors import NotFoundError
from agent_monitor.model.roles import Role
from agent_monitor.storage import repo
from web.auth.deps import CurrentUser, csrf_protect, current_user, require_roles, websocket_user
from web.auth.scope import call_scope, can_see_call
from web.masking import DEFAULT_UNMASKED_ROLES, MaskPolicy

__all__ = [
    "CurrentUser",
    "call_scope",
    "can_see_call",
    "csrf_protect",
    "current_user",
    "require_roles",
    "websocket_user",
]

T = TypeVar("T")

SUPERVISORS = (Role.SUPERVISOR, Role.ADMIN)
REVIEWERS = (Role.QA, Role.ADMIN)
#: roles that may open a call's record (each further limited to the calls in its scope)
CALL_READERS = tuple(Role)


def services_of(conn: HTTPConnection) -> Any:
    return conn.app.state.services


def mask_policy(conn: HTTPConnection) -> MaskPolicy:
    policy = getattr(conn.app.state, "mask_policy", None)
    return policy if isinstance(policy, MaskPolicy) else MaskPolicy(DEFAULT_UNMASKED_ROLES)


def masks(conn: HTTPConnection, user: CurrentUser) -> bool:
    return mask_policy(conn).masks_for(user.role)


async def in_db(request: HTTPConnection, job: Callable[[Any], T]) -> T:
    """Run ``job(session)`` in a worker thread inside one committed database session."""
    db = services_of(request).db

    def run() -> T:
        with db.session() as s:
            return job(s)

    return await asyncio.to_thread(run)


def visible_call(s: Any, user: CurrentUser, call_id: str) -> Any:
    """The call row when ``user`` may see it; 404 otherwise (no hint that it exists)."""
    try:
        call = repo.get_call(s, call_id)
    except NotFoundError:
        raise HTTPException(404, f"no call {call_id!r}") from None
    if not can_see_call(user, call):
        raise HTTPException(404, f"no call {call_id!r}")
    return call


def audit(s: Any, user: CurrentUser, action: str, object_type: str, object_id: str, **detail: Any) -> None:
    repo.record_audit(
        s, user.username, action, object_type=object_type, object_id=object_id, detail=detail or None
    )


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


# the signed-in user of a route, by the roles it admits (403 for others, 401 / login when signed out)
SignedIn = Annotated[CurrentUser, Depends(current_user)]
AnyRole = Annotated[CurrentUser, Depends(require_roles(*CALL_READERS))]
SupervisorUser = Annotated[CurrentUser, Depends(require_roles(*SUPERVISORS))]
ReviewerUser = Annotated[CurrentUser, Depends(require_roles(*REVIEWERS))]
ReplayUser = Annotated[CurrentUser, Depends(require_roles(Role.QA, Role.SUPERVISOR, Role.ADMIN))]
AgentUser = Annotated[CurrentUser, Depends(require_roles(Role.AGENT))]
AdminUser = Annotated[CurrentUser, Depends(require_roles(Role.ADMIN))]
