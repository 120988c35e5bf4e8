"""Audit records of the web application: who did what, when (the hash-chained audit log).

``await audit(services, user, "replay", "recording", "call-7/agent", ip="10.0.0.5")`` from async
route code; ``record(s, actor, ...)`` inside an open database session."""

from __future__ import annotations

import asyncio
from typing import Any

from web.auth.deps import CurrentUser


def record(
    s: Any,
    actor: str,
    action: str,
    object_type: str | None = None,
    object_id: str | None = None,
    **detail: Any,
) -> None:
    from agent_monitor.storage import repo

    repo.record_audit(
        s, actor[:100], action, object_type=object_type, object_id=object_id, detail=detail or None
    )


async def audit(
    services: Any,
    user: CurrentUser | str,
    action: str,
    object_type: str | None = None,
    object_id: str | None = None,
    **detail: Any,
) -> None:
    """Append one audit record in its own committed transaction (in a worker thread)."""
    actor = user.username if isinstance(user, CurrentUser) else user

    def run() -> None:
        with services.db.session() as s:
            record(s, actor, action, object_type, object_id, **detail)

    await asyncio.to_thread(run)
