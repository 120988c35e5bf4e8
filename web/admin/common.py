"""What the administration and report routes share: who may call them and a database helper.

Domain errors of the repository (not found, conflict, invalid) become 404 / 409 / 422 answers
with the error's message here, in one place, until the application maps them centrally."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Request

from agent_monitor.errors import ConflictError, InvalidRecordError, NotFoundError
from agent_monitor.model.roles import Role
from web.auth.deps import CurrentUser, csrf_protect, require_roles

T = TypeVar("T")

AdminUser = Annotated[CurrentUser, Depends(require_roles(Role.ADMIN))]
#: managers who read reports: supervisors (their own team), QA and admins
ReportReader = Annotated[CurrentUser, Depends(require_roles(Role.SUPERVISOR, Role.QA, Role.ADMIN))]

_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (NotFoundError, 404),
    (ConflictError, 409),
    (InvalidRecordError, 422),
)


async def _admin_change(
    user: AdminUser, checked: Annotated[CurrentUser, Depends(csrf_protect)]
) -> CurrentUser:
    return user


#: an admin's change: the admin role and the CSRF header
AdminChange = Annotated[CurrentUser, Depends(_admin_change)]


async def in_db(request: Request, job: Callable[[Any], T]) -> T:
    """``job(session)`` in a worker thread inside one committed session; domain errors -> 4xx."""
    db = request.app.state.services.db

    def run() -> T:
        with db.session() as s:
            return job(s)

    try:
        return await asyncio.to_thread(run)
    except (NotFoundError, ConflictError, InvalidRecordError) as exc:
        status = next(code for kind, code in _STATUS if isinstance(exc, kind))
        raise HTTPException(status, str(exc)) from None
