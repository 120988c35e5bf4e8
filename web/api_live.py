"""Small HTTP endpoints of the live server.

- ``GET /healthz``: ``{"ok": true, "status": "ok", "degraded": [], "live_calls": N,
  "audiosocket_port": P, "outbox": {...}, "disk": {"free_mb": M, "problem": null}}``; while the
  database does not take the live writes (failing, hanging, or writes waiting in the outbox
  journal) ``ok`` is false, ``status`` is ``"degraded: database"`` and ``degraded`` lists
  ``"database"`` (calls are still monitored and alerts still go out; the writes follow when the
  database is back); while the data directory's disk is full ``degraded`` lists ``"disk"`` and
  ``disk.problem`` says why (:mod:`agent_monitor.ingest.disk_space`).
- ``GET /api/languages[?agent_id=A&queue=Q&lang=L]``: the call languages this server transcribes
  (language -> model) and those it only records (with the reason); ``call``: the language a call
  with these start fields gets and whether it is transcribed (``replay``/``capture`` ask first).
- ``GET /api/live``: the live calls with their level and per-leg audio accounting
  (``received_s``, ``processed_s``, ``queued_s``, dropped audio) and ``lag_s``.
- ``GET /api/metrics[?reset=true]``: event-loop lag (ms: p50, p95, p99, max) since the last reset,
  live calls, and the worst recognition lag of a live call.
- ``POST /api/audiosocket/register``: ``{"uuid": "...", "leg": "agent"|"debtor", "call": {start
  message fields}}``: an Asterisk AudioSocket connection with that UUID joins that call as that
  leg (see :mod:`agent_monitor.ingest.audiosocket`).

Access (:mod:`web.auth`): ``/healthz`` and ``/api/languages`` are public; ``/api/live`` is for
agents (their own calls), supervisors (their team's calls) and admins; ``/api/metrics`` for
supervisors and admins; ``/api/audiosocket/register`` needs the ingest token (``Authorization: Bearer ...``).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ValidationError

from agent_monitor.errors import IngestProtocolError, RegistrationLimitError
from agent_monitor.ingest.audiosocket import AUDIOSOCKET_RATE
from agent_monitor.ingest.language import call_language
from agent_monitor.ingest.ws_ingest import StartMessage, validation_problem
from agent_monitor.model.audio import Leg
from agent_monitor.model.roles import Role
from web.auth.deps import CurrentUser, require_ingest_token, require_roles
from web.auth.live_scope import LiveScope

router = APIRouter()
LiveViewer = Annotated[CurrentUser, Depends(require_roles(Role.AGENT, Role.SUPERVISOR, Role.ADMIN))]
Operator = Annotated[CurrentUser, Depends(require_roles(Role.SUPERVISOR, Role.ADMIN))]


@router.get("/healthz")
async def healthz(request: Request) -> dict[str, Any]:
    services = request.app.state.services
    audiosocket = services.audiosocket
    outbox = services.manager.outbox
    disk = services.disk.problem()
    degraded = (["database"] if outbox.degraded else []) + (["disk"] if disk is not None else [])
    return {
        "ok": not degraded,
        "status": f"degraded: {', '.join(degraded)}" if degraded else "ok",
        "degraded": degraded,
        "outbox": outbox.summary(),
        "live_calls": len(services.manager.live_calls()),
        "audiosocket_port": audiosocket.port if audiosocket else None,
        "disk": {"free_mb": services.disk.free_bytes() // (1024 * 1024), "problem": disk},
    }


@router.get("/api/languages")
async def languages(
    request: Request, agent_id: str = "", queue: str | None = None, lang: Literal["en", "zh"] | None = None
) -> dict[str, Any]:
    services = request.app.state.services
    models = services.models
    chosen = call_language(services.settings.live, lang, agent_id, queue)
    return {
        **models.to_dict(),
        "default": services.settings.live.default_lang,
        "call": {"lang": chosen, "transcribed": models.can_transcribe(chosen)},
    }


@router.get("/api/live")
async def live_calls(request: Request, user: LiveViewer) -> dict[str, Any]:
    manager = request.app.state.services.manager
    scope = LiveScope(user, request.app.state.services)
    calls = []
    for session in manager.live_calls():
        if not await scope.sees_agent(session.info.agent_id):
            continue
        stats = session.stats
        calls.append({**session.info.to_dict(), "stats": stats.to_dict(), "lag_s": stats.lag_s})
    return {"calls": calls}


@router.get("/api/metrics")
async def metrics(request: Request, user: Operator, reset: bool = False) -> dict[str, Any]:
    services = request.app.state.services
    live = services.manager.live_calls()
    return {
        "loop_lag": services.loop_lag.summary(reset=reset),
        "live_calls": len(live),
        "max_call_lag_s": max((s.stats.lag_s for s in live), default=0.0),
    }


class Registration(BaseModel):
    uuid: uuid.UUID
    leg: Leg
    call: dict[str, Any]


@router.post("/api/audiosocket/register", dependencies=[Depends(require_ingest_token)])
async def register_audiosocket(request: Request, body: Registration) -> dict[str, Any]:
    services = request.app.state.services
    fields = {"sample_rate": AUDIOSOCKET_RATE, "encoding": "L16", **body.call, "type": "start"}
    try:
        call = StartMessage.model_validate(fields)
        services.registry.register(body.uuid, call, body.leg)
    except ValidationError as exc:
        raise HTTPException(422, validation_problem(exc, "call")) from None
    except RegistrationLimitError as exc:
        raise HTTPException(429, str(exc)) from None
    except IngestProtocolError as exc:
        raise HTTPException(409, str(exc)) from None
    return {"uuid": str(body.uuid), "call_id": call.call_id, "leg": body.leg.value}
