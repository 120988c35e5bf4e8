"""Rule packs administered from the admin page (admin only, every change audited):

- ``GET /api/admin/rules/packs``: the installed pack files (each checked, on or off), every
  version of every uploaded pack (who uploaded it when, its sha256, which one is on) and the
  latest changes from the audit log;
- ``POST /api/admin/rules/packs``: upload a pack's YAML: linted first, its rules' own examples run
  (refused with the lint error, naming each failing example, nothing stored), then stored as the
  next version of its ``pack:`` name and switched on;
- ``PUT /api/admin/rules/packs/{name}``: switch an uploaded pack on (its latest version, or an
  earlier one: a roll back) or off;
- ``PUT /api/admin/rules/files``: switch an installed pack file on or off.

Each change rebuilds the rule set off the event loop and swaps it for calls that start later
(:mod:`agent_monitor.pipeline.rule_packs`); a pack that does not load with the others is refused
and nothing is stored. The rule engine is a stage the web layer does not import: it is reached
through ``services.stages.packs`` (:class:`~agent_monitor.model.stages.RulePacks`)."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from agent_monitor.errors import NotFoundError, RulePackError
from agent_monitor.pipeline.rule_packs import change_rule_packs
from agent_monitor.storage import repo
from web.admin.audit_log import AuditOut
from web.auth.deps import AdminChange, AdminUser
from web.services import ServicesDep, in_db

router = APIRouter(prefix="/api/admin/rules", tags=["admin"])
#: audit actions that change which packs are used (``rule_pack_tried`` changes nothing)
CHANGES = ("rule_pack_uploaded", "rule_pack_enabled", "rule_pack_disabled", "rule_pack_rolled_back")


class FilePackOut(BaseModel):
    file: str
    ok: bool
    name: str | None = None
    version: str | None = None
    rules: int | None = None
    error: str | None = None
    enabled: bool
    changed_by: str | None = None
    changed_at: datetime | None = None


class VersionOut(BaseModel):
    version: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime
    enabled: bool


class UploadedOut(BaseModel):
    name: str
    enabled: bool
    versions: list[VersionOut]


class PacksOut(BaseModel):
    files: list[FilePackOut]
    uploaded: list[UploadedOut]
    changes: list[AuditOut]


class UploadBody(BaseModel):
    #: the YAML text of a rule pack
    text: str = Field(min_length=1, max_length=2_000_000)


class PackSwitch(BaseModel):
    enabled: bool
    #: with ``enabled``: the version to use (an earlier one rolls back); default the latest
    version: int | None = Field(None, ge=1)


class FileSwitch(BaseModel):
    file: str = Field(min_length=1, max_length=300)
    enabled: bool


def _stored(s: Any) -> tuple[dict[str, Any], dict[str, list[VersionOut]], list[AuditOut]]:
    switches = {f: (r.enabled, r.changed_by, r.changed_at) for f, r in repo.file_switches(s).items()}
    uploaded: dict[str, list[VersionOut]] = {}
    for row in repo.list_pack_versions(s):
        uploaded.setdefault(row.name, []).append(VersionOut.model_validate(row, from_attributes=True))
    entries = [e for e in repo.list_audit(s, object_type="rule_pack", limit=200) if e.action in CHANGES]
    return switches, uploaded, [AuditOut.model_validate(e, from_attributes=True) for e in entries[:50]]


@router.get("/packs", response_model=PacksOut)
async def list_packs(request: Request, user: AdminUser, services: ServicesDep) -> PacksOut:
    """Installed files, uploaded versions and who changed what."""
    checks = await asyncio.to_thread(services.stages.packs.installed)
    switches, uploaded, changes = await in_db(request, _stored)
    files = []
    for check in checks:
        enabled, by, at = switches.get(check.file, (True, None, None))
        files.append(FilePackOut(**asdict(check), enabled=enabled, changed_by=by, changed_at=at))
    packs = [
        UploadedOut(name=n, enabled=any(v.enabled for v in vs), versions=vs) for n, vs in uploaded.items()
    ]
    return PacksOut(files=files, uploaded=packs, changes=changes)


@router.post("/packs", response_model=VersionOut, status_code=201)
async def upload_pack(body: UploadBody, user: AdminChange, services: ServicesDep) -> VersionOut:
    """Store a pack's YAML as the next version of its name and use it for new calls (422 with the
    lint error: a key given twice, failing examples..., or when it clashes with the packs in use;
    nothing stored then)."""
    check = await asyncio.to_thread(services.stages.packs.lint, body.text)
    if not check.ok or check.name is None:
        raise RulePackError(check.file, check.error or "no pack name")
    name = check.name

    def change(s: Any) -> VersionOut:
        row = repo.add_pack_version(s, name, body.text, user.username)
        return VersionOut.model_validate(row, from_attributes=True)

    return await change_rule_packs(services.manager, change)


@router.put("/packs/{name:path}", response_model=UploadedOut)
async def switch_pack(name: str, body: PackSwitch, user: AdminChange, services: ServicesDep) -> UploadedOut:
    """Switch an uploaded pack on (``version``: roll back to it) or off, for calls that start later.
    The name is the rest of the path: a ``pack:`` name may hold ``/`` (``acme/custom``), and such a
    pack, once uploaded and switched on, was a 404 "Not Found" here (never off, never rolled back)."""

    def change(s: Any) -> UploadedOut:
        repo.set_pack_enabled(s, name, body.enabled, user.username, body.version)
        rows = [r for r in repo.list_pack_versions(s) if r.name == name]
        versions = [VersionOut.model_validate(r, from_attributes=True) for r in rows]
        return UploadedOut(name=name, enabled=body.enabled, versions=versions)

    return await change_rule_packs(services.manager, change)


@router.put("/files", response_model=FilePackOut)
async def switch_file(body: FileSwitch, user: AdminChange, services: ServicesDep) -> FilePackOut:
    """Switch an installed pack file (named as the list names it) on or off, for later calls."""
    checks = await asyncio.to_thread(services.stages.packs.installed)
    check = next((c for c in checks if c.file == body.file), None)
    if check is None:
        raise NotFoundError(f"no installed rule pack {body.file!r}")

    def change(s: Any) -> FilePackOut:
        row = repo.set_file_enabled(s, body.file, body.enabled, user.username)
        return FilePackOut(
            **asdict(check), enabled=row.enabled, changed_by=row.changed_by, changed_at=row.changed_at
        )

    return await change_rule_packs(services.manager, change)
