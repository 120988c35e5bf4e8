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
  (``received_s``, ``processed_s``, ``queued_s``, dropped audio) and ``lag_s``; the debtor's phone
  number and the ``debt_id`` are masked for the roles that see personal data masked (agents by
  default).
- ``GET /api/metrics``: event-loop lag (ms: p50, p95, p99, max) since the last reset, live calls,
  the worst recognition lag of a live call, and the worker threads' lanes since start (jobs, queue
  wait, CPU: :mod:`agent_monitor.lanes`) (Prometheus: ``GET /metrics``, :mod:`web.api_metrics`).
  ``POST /api/metrics/reset`` answers the same and starts the loop-lag window again (a GET changes
  nothing: ``?reset=true`` there is refused with 422, naming the POST).
- ``POST /api/audiosocket/register``: ``{"uuid": "...", "leg": "agent"|"debtor", "call": {start
  message fields}}``: an Asterisk AudioSocket connection with that UUID joins that call as that
  leg (see :mod:`agent_monitor.ingest.audiosocket`).

Access (:mod:`web.auth`): ``/healthz`` and ``/api/languages`` are public; ``/api/live`` is for
agents (their own calls), supervisors (their team's calls) and admins; ``/api/metrics`` (and its
reset, with the CSRF token) for supervisors and admins; ``/api/audiosocket/register`` needs the
ingest token (``Authorization: Bearer ...``).
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ValidationError

from agent_monitor.errors import InvalidRequestError
from agent_monitor.ingest.audiosocket import AUDIOSOCKET_RATE
from agent_monitor.ingest.language import call_language
from agent_monitor.ingest.ws_ingest import StartMessage, validation_problem
from agent_monitor.model.audio import Leg
from web.auth.deps import LiveViewer, SupervisorUser, csrf_protect, require_ingest_token
from web.auth.live_scope import LiveScope
from web.auth.scope import masks
from web.masking import mask_call_info
from web.services import Services, ServicesDep

router = APIRouter()


@router.get("/healthz")
async def healthz(services: ServicesDep) -> dict[str, Any]:
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
    services: ServicesDep,
    agent_id: str = "",
    queue: str | None = None,
    lang: Literal["en", "zh"] | None = None,
) -> dict[str, Any]:
    models = services.models
    chosen = call_language(services.settings.live, lang, agent_id, queue)
    return {
        **models.to_dict(),
        "default": services.settings.live.default_lang,
        "call": {"lang": chosen, "transcribed": models.can_transcribe(chosen)},
    }


@router.get("/api/live")
async def live_calls(request: Request, user: LiveViewer, services: ServicesDep) -> dict[str, Any]:
    scope = LiveScope(user, services, waits=False)  # a request: 503 while the database is away
    masked = masks(request, user)
    sessions = services.calls.live_calls()
    await scope.learn_team(s.info.agent_id for s in sessions)  # one query, not one per call
    calls = []
    for session in sessions:
        if not await scope.sees(session.info):
            continue
        stats = session.stats
        info = session.info.to_dict()
        if masked:  # as in every other view (the call_started event, /api/agent/current)
            info = mask_call_info(info)
        calls.append({**info, "stats": stats.to_dict(), "lag_s": stats.lag_s})
    return {"calls": calls}


@router.get("/api/metrics")
async def metrics(user: SupervisorUser, services: ServicesDep, reset: str | None = None) -> dict[str, Any]:
    if reset is not None:  # it reset the window on a GET, which a prefetch or a second tab also sends
        raise InvalidRequestError("GET /api/metrics changes nothing: reset with POST /api/metrics/reset")
    return _metrics(services, reset=False)


@router.post("/api/metrics/reset", dependencies=[Depends(csrf_protect)])
async def reset_metrics(user: SupervisorUser, services: ServicesDep) -> dict[str, Any]:
    """The metrics as :func:`metrics` answers them; the loop-lag window starts again after them."""
    return _metrics(services, reset=True)


def _metrics(services: Services, *, reset: bool) -> dict[str, Any]:
    live = services.manager.live_calls()
    return {
        "loop_lag": services.loop_lag.summary(reset=reset),
        "live_calls": len(live),
        "max_call_lag_s": max((s.stats.lag_s for s in live), default=0.0),
        "lanes": {lane.lane: lane.to_dict() for lane in services.stages.runner.lane_stats()},
    }


class Registration(BaseModel):
    uuid: uuid.UUID
    leg: Leg
    call: dict[str, Any]


@router.post("/api/audiosocket/register", dependencies=[Depends(require_ingest_token)])
async def register_audiosocket(body: Registration, services: ServicesDep) -> dict[str, Any]:
    """Errors: 422 for an unusable ``call`` (another sample rate or encoding than AudioSocket's
    included: it was a 409), 429 when too many registrations wait
    (``RegistrationLimitError``), 409 for a UUID already registered or a leg whose call metadata
    disagrees with the other leg's registration (``IngestProtocolError``)."""
    fields = {"sample_rate": AUDIOSOCKET_RATE, "encoding": "L16", **body.call, "type": "start"}
    try:
        call = StartMessage.model_validate(fields)
    except ValidationError as exc:
        raise InvalidRequestError(validation_problem(exc, "call")) from None
    services.registry.register(body.uuid, call, body.leg)
    return {"uuid": str(body.uuid), "call_id": call.call_id, "leg": body.leg.value}
