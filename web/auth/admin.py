"""Admin REST API: users (``/api/admin/users``) and rule packs (``/api/admin/rules``).

Only ``admin`` may use it; every change needs the CSRF header and is written to the audit log.
The last active admin cannot be deactivated or demoted (someone must be able to manage users).
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from agent_monitor.accounts import users as accounts
from agent_monitor.accounts.passwords import check_password_strength, hash_password
from agent_monitor.model.roles import Role
from agent_monitor.storage import repo
from web.auth.deps import AdminChange, AdminUser
from web.params import usable_name
from web.services import ServicesDep, in_db

router = APIRouter(prefix="/api/admin", tags=["admin"])


class UserOut(BaseModel):
    username: str
    role: Role
    agent_id: str | None
    team: str | None
    active: bool
    created_at: str


class NewUser(BaseModel):
    username: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=1, max_length=1024)
    role: Role
    agent_id: Annotated[str, usable_name(64)] | None = None
    team: Annotated[str, usable_name(100, path_safe=True)] | None = None


class UserChange(BaseModel):
    """Fields to change; ``role`` replaces the role together with ``agent_id`` and ``team``."""

    role: Role | None = None
    agent_id: Annotated[str, usable_name(64)] | None = None
    team: Annotated[str, usable_name(100, path_safe=True)] | None = None
    active: bool | None = None
    password: str | None = Field(None, min_length=1, max_length=1024)


def _out(row: Any) -> UserOut:
    return UserOut(
        username=row.username,
        role=Role(row.role),
        agent_id=row.agent_id,
        team=row.team,
        active=bool(row.active),
        created_at=row.created_at.isoformat(),
    )


@router.get("/users", response_model=list[UserOut])
async def list_users(request: Request, user: AdminUser) -> list[UserOut]:
    """Every user (never their password hashes)."""
    return await in_db(request, lambda s: [_out(u) for u in repo.list_users(s)])


async def _checked_hash(services: ServicesDep, password: str, username: str) -> str:
    """The hash of ``password`` once it passes the strength check (422 otherwise)."""
    web = services.settings.web
    check_password_strength(password, username, web.min_password_length, web.min_password_score)
    return await asyncio.to_thread(hash_password, password)


@router.post("/users", response_model=UserOut, status_code=201)
async def create_user(request: Request, body: NewUser, user: AdminChange, services: ServicesDep) -> UserOut:
    """Add a user; an agent needs ``agent_id``, a supervisor should have a ``team``."""
    pw_hash = await _checked_hash(services, body.password, body.username)

    def job(s: Any) -> UserOut:
        row = accounts.add_user(
            s, user.username, body.username, pw_hash, body.role, agent_id=body.agent_id, team=body.team
        )
        return _out(row)

    return await in_db(request, job)


@router.patch("/users/{username}", response_model=UserOut)
async def update_user(
    request: Request, username: str, body: UserChange, user: AdminChange, services: ServicesDep
) -> UserOut:
    """Change a user's role (with agent id / team), activate or deactivate them, or set a password
    (the last active admin cannot be demoted or deactivated: 409)."""
    pw_hash = None if body.password is None else await _checked_hash(services, body.password, username)
    change = accounts.UserChange(body.role, body.agent_id, body.team, body.active, pw_hash)
    return await in_db(request, lambda s: _out(accounts.update_user(s, user.username, username, change)))


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


@router.get("/rules", response_model=list[PackOut])
async def list_rule_packs(user: AdminUser, services: ServicesDep) -> list[PackOut]:
    """The rule packs the server loads (``rules.packs``), each checked."""
    packs = services.stages.packs
    return [PackOut(**asdict(c)) for c in await asyncio.to_thread(packs.installed)]


@router.post("/rules/lint", response_model=PackOut)
async def lint_rule_pack(body: LintBody, user: AdminChange, services: ServicesDep) -> PackOut:
    """Check a rule pack's YAML text without installing it (``ok`` false with a one-line error)."""
    packs = services.stages.packs
    return PackOut(**asdict(await asyncio.to_thread(packs.lint, body.text)))
