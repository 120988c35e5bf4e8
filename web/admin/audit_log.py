"""``GET /api/admin/audit``: the audit log, newest first, with the result of verifying every hash
chain (audit log, alerts, alert events, evidence) against the anchors the server wrote (admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from agent_monitor.storage import repo
from agent_monitor.storage.anchors import anchor_path, read_latest_anchors
from agent_monitor.storage.chain import Anchor
from agent_monitor.storage.integrity import verify_chains
from web.auth.deps import AdminUser
from web.params import Offset
from web.services import in_db, services_of

router = APIRouter(prefix="/api/admin", tags=["admin"])


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    object_type: str | None
    object_id: str | None
    detail: dict[str, Any] | None


class ChainOut(BaseModel):
    name: str
    rows: int
    ok: bool
    problems: list[str]


class AuditPage(BaseModel):
    entries: list[AuditOut]
    #: every chain verified in full (``ok`` false names what was found); empty with ``verify=false``
    chains: list[ChainOut]
    #: ``None`` when not verified this time
    verified: bool | None
    #: whether the chain heads were also compared with the anchors saved outside the database
    anchored: bool


def _anchors(settings: Any) -> dict[str, Anchor]:
    path = anchor_path(settings.data_dir)
    return read_latest_anchors(path) if path.exists() else {}


@router.get("/audit", response_model=AuditPage)
async def audit_log(
    request: Request,
    user: AdminUser,
    actor: str | None = Query(None, max_length=100),
    action: str | None = Query(None, max_length=100),
    limit: int = Query(100, ge=1, le=1000),
    offset: Offset = 0,
    verify: bool = True,
) -> AuditPage:
    """Audit records matching ``actor`` / ``action`` (exact), newest first, and (unless
    ``verify=false``: it reads every chained row) the verification of every chain."""
    anchors = _anchors(services_of(request).settings) if verify else {}

    def job(s: Any) -> AuditPage:
        rows = repo.list_audit(s, actor=actor or None, action=action or None, limit=limit, offset=offset)
        entries = [
            AuditOut(
                id=e.id,
                at=e.at,
                actor=e.actor,
                action=e.action,
                object_type=e.object_type,
                object_id=e.object_id,
                detail=e.detail,
            )
            for e in rows
        ]
        if not verify:
            return AuditPage(entries=entries, chains=[], verified=None, anchored=False)
        reports = verify_chains(s, anchors)
        chains = [ChainOut(name=r.name, rows=r.rows, ok=r.ok, problems=list(r.problems)) for r in reports]
        return AuditPage(
            entries=entries, chains=chains, verified=all(c.ok for c in chains), anchored=bool(anchors)
        )

    return await in_db(request, job)
