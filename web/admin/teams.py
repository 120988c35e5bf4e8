"""Teams (admin): ``GET /api/admin/teams``; ``POST /api/admin/teams`` (a new team with its first
agents and supervisor); ``POST /api/admin/teams/{team}/rename``; ``PUT /api/admin/agents/{agent_id}/team``
(move an agent). A supervisor is assigned to a team by changing their team (``PATCH
/api/admin/users/{username}``). Every change is written to the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from agent_monitor.accounts.users import record
from agent_monitor.errors import ConflictError, InvalidRecordError
from agent_monitor.storage import repo
from agent_monitor.storage.enums import Role
from agent_monitor.storage.repo.teams import team_name
from web.auth.deps import AdminChange, AdminUser
from web.params import usable_name
from web.services import in_db

router = APIRouter(prefix="/api/admin", tags=["admin"])


class TeamOut(BaseModel):
    name: str
    agents: list[str]
    supervisors: list[str]


class AgentOut(BaseModel):
    id: str
    name: str
    team: str | None


class TeamsOut(BaseModel):
    teams: list[TeamOut]
    #: every agent, with its team (``None``: in no team)
    agents: list[AgentOut]


class NewTeam(BaseModel):
    name: Annotated[str, usable_name(100, path_safe=True)]
    agents: list[Annotated[str, usable_name(64)]] = Field(default_factory=list, max_length=1000)
    supervisor: str | None = Field(None, max_length=100)


class Rename(BaseModel):
    name: Annotated[str, usable_name(100, path_safe=True)]


class AgentTeam(BaseModel):
    #: the agent's new team; ``null`` takes it out of every team
    team: Annotated[str, usable_name(100, path_safe=True)] | None = None


def _teams(s: Any) -> TeamsOut:
    teams = [
        TeamOut(name=t.name, agents=list(t.agents), supervisors=list(t.supervisors))
        for t in repo.list_teams(s)
    ]
    agents = [AgentOut(id=a.id, name=a.name, team=a.team) for a in repo.list_agents(s)]
    return TeamsOut(teams=teams, agents=agents)


@router.get("/teams", response_model=TeamsOut)
async def list_teams(request: Request, user: AdminUser) -> TeamsOut:
    """Every team with its agents and supervisors, and every agent."""
    return await in_db(request, _teams)


@router.post("/teams", response_model=TeamsOut, status_code=201)
async def create_team(request: Request, body: NewTeam, user: AdminChange) -> TeamsOut:
    """A new team: the agents named move into it, the supervisor named is assigned to it (a team
    exists through its members, so at least one is needed)."""

    def job(s: Any) -> TeamsOut:
        name = team_name(body.name)
        repo.lock_audit(s)  # the same team created twice at once: the second is a 409
        if repo.team_exists(s, name):
            raise ConflictError(f"team {name!r} already exists")
        if not body.agents and not body.supervisor:
            raise InvalidRecordError("a new team needs at least one agent or a supervisor")
        for agent_id in body.agents:
            repo.set_agent_team(s, agent_id, name)
        if body.supervisor:
            _assign_supervisor(s, body.supervisor, name)
        record(s, user.username, "team_created", "team", name, agents=body.agents, supervisor=body.supervisor)
        return _teams(s)

    return await in_db(request, job)


def _assign_supervisor(s: Any, username: str, team: str) -> None:
    row = repo.require_user(s, username)
    if row.role is not Role.SUPERVISOR:
        raise InvalidRecordError(f"user {username!r} is not a supervisor")
    repo.set_user_role(s, row.username, Role.SUPERVISOR, team=team)


@router.post("/teams/{team:path}/rename", response_model=TeamsOut)
async def rename_team(request: Request, team: str, body: Rename, user: AdminChange) -> TeamsOut:
    """Rename a team for all its agents and supervisors. The old name is the rest of the path: this
    API refuses a new name with ``/``, but ``users add --team ops/east`` takes one, and such a team
    was a 404 "Not Found" here (it could only be renamed away from with ``/`` in the path)."""

    def job(s: Any) -> TeamsOut:
        changed = repo.rename_team(s, team, body.name)
        record(s, user.username, "team_renamed", "team", team, to=body.name.strip(), members=changed)
        return _teams(s)

    return await in_db(request, job)


@router.put("/agents/{agent_id:path}/team", response_model=TeamsOut)
async def move_agent(request: Request, agent_id: str, body: AgentTeam, user: AdminChange) -> TeamsOut:
    """Move an agent to another team (or out of every team with ``null``). The id is the rest of
    the path (``:path``): an agent id may hold ``/`` (the ingest takes it), and such an agent was
    a 404 "Not Found" here (the route split at the slash)."""

    def job(s: Any) -> TeamsOut:
        before = repo.get_agent(s, agent_id).team
        repo.set_agent_team(s, agent_id, body.team)
        record(s, user.username, "agent_moved", "agent", agent_id, team_from=before, team_to=body.team)
        return _teams(s)

    return await in_db(request, job)
