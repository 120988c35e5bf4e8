"""Routes of the supervisor's wall (supervisor, admin; every call limited to the user's scope).

- ``GET /api/wall``: the live calls in scope, each as a tile (:func:`web.ui.wall_view.tile_json`),
  and the wall's settings (``ended_grace_s``, ``resolved_grace_s``, ``escalate_after_s``, whether a
  phone-system hook is configured).
- ``GET /api/wall/calls/{call_id}``: one call's tile (the page asks when a call starts).
- ``POST /api/wall/alerts/{alert_id}/take_over`` (also at ``/api/alerts/{alert_id}/take_over``, the
  same handler): take the call over (``mode`` listen, whisper or
  barge, optional ``note``), then tell the phone system (:mod:`web.ui.phone_hook`); the answer
  holds the alert and the hook's outcome (a failing hook is reported, never a 5xx). A call that is
  not live (its stored status, on any node) is a 409: nothing recorded, the hook not called.
- ``/supervisor/calls``: the page of the team's recent calls (the supervisor's scope: 7 days).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from agent_monitor.errors import NotFoundError
from agent_monitor.storage import repo
from web.auth.deps import SupervisorUser, csrf_protect
from web.auth.scope import masks, visible_call
from web.params import RowId
from web.services import ServicesDep, in_db
from web.ui.pages import shell
from web.ui.phone_hook import HookRequest, TakeOverAction, call_phone_hook
from web.ui.wall_view import alert_view, tile_json

router = APIRouter(tags=["wall"])


@router.get("/api/wall")
async def wall(request: Request, user: SupervisorUser, services: ServicesDep) -> dict[str, Any]:
    """The live calls in scope with their recent transcript, stress readings and open alerts."""
    sessions = {s.call_id: s for s in services.calls.live_calls()}
    masked = masks(request, user)

    def job(s: Any) -> list[dict[str, Any]]:
        tiles = []
        for call_id, session in sessions.items():
            try:
                call = visible_call(s, user, call_id)
            except NotFoundError:
                continue  # not stored yet, or not in the user's scope
            tiles.append(tile_json(s, call, str(session.stats.level), masked))
        return tiles

    settings = services.settings.wall
    return {
        "calls": await in_db(request, job),
        "ended_grace_s": settings.ended_grace_s,
        "resolved_grace_s": settings.resolved_grace_s,
        "escalate_after_s": services.settings.live.escalate_after_s,
        "phone_hook": settings.phone_hook.url is not None,
    }


@router.get("/api/wall/calls/{call_id:path}")
async def wall_call(
    request: Request, call_id: str, user: SupervisorUser, services: ServicesDep
) -> dict[str, Any]:
    """One call's tile (404 outside the user's scope)."""
    session = services.calls.get(call_id)
    masked = masks(request, user)

    def job(s: Any) -> dict[str, Any]:
        call = visible_call(s, user, call_id)
        level = str(session.stats.level) if session is not None else str(call.final_level)
        return tile_json(s, call, level, masked)

    return await in_db(request, job)


class TakeOver(BaseModel):
    mode: TakeOverAction = TakeOverAction.LISTEN
    note: str | None = Field(None, max_length=2000)


@router.post("/api/wall/alerts/{alert_id}/take_over", dependencies=[Depends(csrf_protect)])
@router.post("/api/alerts/{alert_id}/take_over", dependencies=[Depends(csrf_protect)])
async def take_over(
    request: Request,
    alert_id: RowId,
    user: SupervisorUser,
    services: ServicesDep,
    body: TakeOver | None = None,
) -> dict[str, Any]:
    """Take the alert's call over (409 when someone already has, or when the call has ended: then
    nothing is recorded and the hook is not called), then call the phone-system hook.
    Without a body: mode listen, no note (both paths are this one handler)."""
    body = body or TakeOver()

    def check(s: Any) -> str:
        alert = repo.get_alert(s, alert_id)  # NotFoundError: 404
        return str(visible_call(s, user, alert.call_id).agent_id)

    agent_id = await in_db(request, check)
    note = f"{body.mode.value}: {body.note}" if body.note else body.mode.value
    await services.manager.take_over(alert_id, user.username, note)  # InvalidTransitionError: 409
    masked = masks(request, user)

    def view(s: Any) -> dict[str, Any]:
        return alert_view(repo.get_alert(s, alert_id), repo.get_handoff(s, alert_id), agent_id, masked)

    alert = await in_db(request, view)
    hook = await call_phone_hook(
        services.settings.wall.phone_hook,
        HookRequest(alert["call_id"], agent_id, user.username, body.mode, alert_id, body.note),
    )
    return {"alert": alert, "hook": hook.to_dict()}


@router.get("/supervisor/calls", response_class=HTMLResponse, include_in_schema=False)
async def recent_calls_page(request: Request, user: SupervisorUser) -> HTMLResponse:
    return shell(request, "supervisor_calls", user)
