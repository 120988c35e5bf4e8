"""Admin REST API: users (``/api/admin/users``) and rule packs (``/api/admin/rules``).

Only ``admin`` may use it; every change needs the CSRF header and is written to the audit log.
The last active admin cannot be deactivated or demoted (someone must be able to manage users).
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from agent_monitor.errors import AgentMonitorError, ConflictError, InvalidRecordError, NotFoundError
from web.auth.audit import record
from web.auth.deps import CurrentUser, csrf_protect, require_roles
from web.auth.passwords import check_password_strength, hash_password

router = APIRouter(prefix="/api/admin", tags=["admin"])

AdminUser = Annotated[CurrentUser, Depends(require_roles("admin"))]


async def _admin_csrf(user: AdminUser, checked: Annotated[CurrentUser, Depends(csrf_protect)]) -> CurrentUser:
    return user


AdminChange = Annotated[CurrentUser, Depends(_admin_csrf)]
RoleName = Literal["agent", "supervisor", "qa", "admin"]


class UserOut(BaseModel):
    username: str
    role: str
    agent_id: str | None
    team: str | None
    active: bool
    created_at: str


class NewUser(BaseModel):
    username: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=1, max_length=1024)
    role: RoleName
    agent_id: str | None = Field(None, max_length=64)
    team: str | None = Field(None, max_length=100)


class UserChange(BaseModel):
    """Fields to change; ``role`` replaces the role together with ``agent_id`` and ``team``."""

    role: RoleName | None = None
    agent_id: str | None = Field(None, max_length=64)
    team: str | None = Field(None, max_length=100)
    active: bool | None = None
    password: str | None = Field(None, min_length=1, max_length=1024)


def _out(row: Any) -> UserOut:
    role = row.role.value if hasattr(row.role, "value") else str(row.role)
    return UserOut(
        username=row.username,
        role=role,
        agent_id=row.agent_id,
        team=row.team,
        active=bool(row.active),
        created_at=row.created_at.isoformat(),
    )


def _http(exc: AgentMonitorError) -> HTTPException:
    if isinstance(exc, NotFoundError):
        return HTTPException(404, str(exc))
    if isinstance(exc, ConflictError):
        return HTTPException(409, str(exc))
    return HTTPException(422, str(exc))


async def _in_db(request: Request, job: Any) -> Any:
    db = request.app.state.services.db

    def run() -> Any:
        with db.session() as s:
            return job(s)

    try:
        return await asyncio.to_thread(run)
    except (NotFoundError, ConflictError, InvalidRecordError) as exc:
        raise _http(exc) from None


@router.get("/users", response_model=list[UserOut])
async def list_users(request: Request, user: AdminUser) -> list[UserOut]:
    """Every user (never their password hashes)."""
    from agent_monitor.storage import repo

    return list(await _in_db(request, lambda s: [_out(u) for u in repo.list_users(s)]))


@router.post("/users", response_model=UserOut, status_code=201)
async def create_user(request: Request, body: NewUser, user: AdminChange) -> UserOut:
    """Add a user; an agent needs ``agent_id``, a supervisor should have a ``team``."""
    from agent_monitor.storage import repo

    web = request.app.state.services.settings.web
    try:
        check_password_strength(body.password, body.username, web.min_password_length, web.min_password_score)
    except InvalidRecordError as exc:
        raise HTTPException(422, str(exc)) from None
    pw_hash = await asyncio.to_thread(hash_password, body.password)

    def job(s: Any) -> UserOut:
        row = repo.create_user(s, body.username, pw_hash, body.role, agent_id=body.agent_id, team=body.team)
        record(s, user.username, "user_created", "user", body.username, role=body.role)
        return _out(row)

    result: UserOut = await _in_db(request, job)
    return result


def _other_active_admins(s: Any, username: str) -> int:
    from agent_monitor.storage import repo

    return sum(1 for u in repo.list_users(s, role="admin", active=True) if u.username != username)


@router.patch("/users/{username}", response_model=UserOut)
async def update_user(request: Request, username: str, body: UserChange, user: AdminChange) -> UserOut:
    """Change a user's role (with agent id / team), activate or deactivate them, or set a password."""
    from agent_monitor.storage import repo

    pw_hash: str | None = None
    if body.password is not None:
        web = request.app.state.services.settings.web
        try:
            check_password_strength(body.password, username, web.min_password_length, web.min_password_score)
        except InvalidRecordError as exc:
            raise HTTPException(422, str(exc)) from None
        pw_hash = await asyncio.to_thread(hash_password, body.password)

    def job(s: Any) -> UserOut:
        row = repo.require_user(s, username)
        current_role = row.role.value if hasattr(row.role, "value") else str(row.role)
        losing_admin = current_role == "admin" and (
            (body.role is not None and body.role != "admin") or body.active is False
        )
        if losing_admin and _other_active_admins(s, username) == 0:
            raise ConflictError("the last active admin cannot be demoted or deactivated")
        changes: dict[str, Any] = {}
        if body.role is not None:
            repo.set_user_role(s, username, body.role, agent_id=body.agent_id, team=body.team)
            changes.update(role=body.role, agent_id=body.agent_id, team=body.team)
        elif body.team is not None or body.agent_id is not None:
            repo.set_user_role(
                s,
                username,
                current_role,
                agent_id=body.agent_id if body.agent_id is not None else row.agent_id,
                team=body.team if body.team is not None else row.team,
            )
            changes.update(agent_id=row.agent_id, team=row.team)
        if body.active is not None:
            repo.set_user_active(s, username, body.active)
            changes["active"] = body.active
        if pw_hash is not None:
            repo.set_password(s, username, pw_hash)
            changes["password"] = "changed"
        record(s, user.username, "user_updated", "user", username, **changes)
        return _out(row)

    result: UserOut = await _in_db(request, job)
    return result


class PackOut(BaseModel):
    file: str
    ok: bool
    name: str | None = None
    version: str | None = None
    rules: int | None = None
    error: str | None = None


class LintBody(BaseModel):
    #: the YAML text of a rule pack
    text: str = Field(min_length=1, max_length=2_000_000)


def _pack_info(path: Path, shown: str) -> PackOut:
    from qa_rules.packs import load_pack

    try:
        pack = load_pack(path)
    except AgentMonitorError as exc:
        # ``file`` names the pack: the error says what is wrong in it without naming it again
        error = str(exc).removeprefix(f"{path}: ").replace(str(path), shown)
        return PackOut(file=shown, ok=False, error=error)
    return PackOut(file=shown, ok=True, name=pack.name, version=pack.version, rules=len(pack.rules))


def _shown(path: Path, roots: list[Path]) -> str:
    """A pack file as the admin knows it: relative to the configured folder it was found in
    (``en/abuse.yaml``), or its file name; never the server's absolute path."""
    for root in roots:
        if root.is_dir() and path.is_relative_to(root):
            return path.relative_to(root).as_posix()
    return path.name


@router.get("/rules", response_model=list[PackOut])
async def list_rule_packs(request: Request, user: AdminUser) -> list[PackOut]:
    """The rule packs the server loads (``rules.packs``), each checked."""
    from qa_rules.packs import pack_files

    settings = request.app.state.services.settings

    def job() -> list[PackOut]:
        try:
            files = pack_files(settings.rules.packs)
        except AgentMonitorError as exc:
            shown = ", ".join(p.name for p in settings.rules.packs)
            error = str(exc)
            for p in settings.rules.packs:
                error = error.replace(str(p), p.name)
            return [PackOut(file=shown, ok=False, error=error)]
        return [_pack_info(f, _shown(f, settings.rules.packs)) for f in files]

    return await asyncio.to_thread(job)


@router.post("/rules/lint", response_model=PackOut)
async def lint_rule_pack(request: Request, body: LintBody, user: AdminChange) -> PackOut:
    """Check a rule pack's YAML text without installing it (``ok`` false with a one-line error)."""

    def job() -> PackOut:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "pack.yaml"
            path.write_text(body.text, encoding="utf-8")
            return _pack_info(path, "pack.yaml")

    return await asyncio.to_thread(job)
