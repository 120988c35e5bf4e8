"""REST API of the pages: calls in the user's scope, a call's record, recordings, alert actions,
the supervisor wall and the agent's current call.

- ``GET /api/calls``: calls the user may see (``status``, ``level``, ``limit``, ``offset``).
- ``GET /api/calls/{call_id}``: the call (with the ``debt_id`` and ``consented`` it came with, what
  the frequency rule judged it by; ``debt_id`` null: its debtor id's) with transcript, rule hits,
  alerts, stress timeline, recordings, reviews and ``qa``, its QA queue entry (state,
  ``assigned_to``, ``assigned_by``; null when not queued; reviews and entry not for agents) (masked
  for masked roles; an agent sees only their own calls).
- ``GET /api/calls/{call_id}/recordings/{leg}.wav``: a leg's audio (supervisor, qa, admin; audited).
- ``POST /api/alerts/{alert_id}/acknowledge``, ``.../resolve`` (supervisor, admin; the alert's call
  must be in their scope). Taking over (``.../take_over``, also at ``/api/wall/alerts/...``) is one
  handler with the phone-system hook: :mod:`web.ui.wall_routes`.
- the supervisor wall's routes are in :mod:`web.ui.wall_routes`.
- ``GET /api/agent/current``: the agent's live call, its warnings and its checklist of required
  disclosures; ``POST /api/agent/ack``
  acknowledges a warning (audited).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from agent_monitor.errors import NotFoundError, RecordingError
from agent_monitor.model.audio import Leg
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.roles import Role
from agent_monitor.model.rules import Severity, shown_to_agent
from agent_monitor.storage import CallStatus, repo
from agent_monitor.storage.recordings import locate_recording, read_recording, wav_header
from web.auth.deps import AgentUser, AnyRole, CurrentUser, ReplayUser, SupervisorUser, csrf_protect
from web.auth.scope import call_scope, can_see_call, masks, narrow, visible_call
from web.head import is_head
from web.masking import mask_id
from web.params import Offset, RowId
from web.services import Services, ServicesDep, in_db
from web.ui.access import audit
from web.ui.api_media import recording_unavailable
from web.ui.serialize import (
    alert_json,
    call_json,
    distinct_hits,
    health_json,
    hit_json,
    recording_json,
    review_json,
    stress_json,
    utterance_json,
)

router = APIRouter(tags=["calls"])


@router.get("/api/calls")
async def list_calls(
    request: Request,
    user: AnyRole,
    status: Annotated[list[CallStatus] | None, Query()] = None,
    level: Annotated[list[WarningLevel] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    """The calls the signed-in user may see, newest first (personal data masked for masked roles)."""
    kwargs = narrow(call_scope(user), status=status, levels=level)
    masked = masks(request, user)

    def job(s: Any) -> list[dict[str, Any]]:
        return [call_json(c, masked) for c in repo.list_calls(s, limit=limit, offset=offset, **kwargs)]

    return {"calls": await in_db(request, job)}


def call_record(s: Any, user: CurrentUser, call_id: str, masked: bool) -> dict[str, Any]:
    call = visible_call(s, user, call_id)
    reviews = [] if user.role is Role.AGENT else [review_json(r) for r in repo.list_reviews(s, call_id)]
    debt_id, consented = repo.call_debt(s, call_id)  # what the frequency rule judged the call by
    if masked and debt_id:
        debt_id = mask_id(debt_id)  # an account number is personal data, as the phone is
    return {
        "call": call_json(call, masked) | {"debt_id": debt_id, "consented": consented},
        "utterances": [utterance_json(u, masked) for u in repo.list_utterances(s, call_id)],
        "hits": [hit_json(h, masked) for h in distinct_hits(repo.list_rule_hits(s, call_id))],
        "alerts": [alert_json(a, masked) for a in repo.list_alerts(s, call_id=call_id)],
        "stress": [stress_json(x) for x in repo.stress_timeline(s, call_id)],
        "recordings": [recording_json(r) for r in repo.list_recordings(s, call_id)],
        "health": [health_json(h) for h in repo.list_signal_health(s, call_id)],
        "reviews": reviews,
        "qa": None if user.role is Role.AGENT else queue_entry(s, call_id),
    }


def queue_entry(s: Any, call_id: str) -> dict[str, Any] | None:
    """The call's QA queue entry: its state, who has it and who assigned it to them when that was
    someone else (a hand assignment, which does not lapse); ``None`` for a call not queued."""
    try:
        item = repo.get_qa_item(s, call_id)
    except NotFoundError:
        return None
    return {"state": str(item.state), "assigned_to": item.assigned_to, "assigned_by": item.assigned_by}


@router.get("/api/calls/{call_id:path}/recordings/{leg}.wav", response_class=Response)
async def get_recording(
    request: Request,
    call_id: str,
    leg: Leg,
    user: ReplayUser,
    services: ServicesDep,
) -> Response:
    """One leg's audio as WAV (byte ranges supported); the first request of a playback is audited
    (a ``HEAD`` as ``recording_head``: no audio left the server).
    A missing or unreadable recording file is a 404 that does not name its path
    (:func:`~web.ui.api_media.recording_unavailable`)."""
    data_dir = services.settings.media_dir

    def job(s: Any) -> tuple[bytes, int]:
        visible_call(s, user, call_id)
        row = repo.get_recording(s, call_id, leg)
        if row is None:
            raise NotFoundError(f"call {call_id!r} has no {leg.value} recording")
        try:
            audio = read_recording(locate_recording(data_dir, call_id, leg, row.path))
        except RecordingError as exc:
            raise recording_unavailable(call_id, leg, exc, "playback") from exc
        if request.headers.get("range", "bytes=0-").startswith("bytes=0-"):
            action = "recording_head" if is_head(request) else "recording_download"
            audit(s, user, action, "call", call_id, leg=leg.value, bytes=len(audio.pcm))
        return audio.pcm, audio.sample_rate

    pcm, rate = await in_db(request, job)
    return ranged(request, wav_header(rate, len(pcm)) + pcm, "audio/wav")


@router.get("/api/calls/{call_id:path}")
async def get_call(request: Request, call_id: str, user: AnyRole) -> dict[str, Any]:
    """A call's record: transcript with word times, rule hits, alerts, stress, recordings, reviews.

    (Registered after the routes below ``/api/calls/ID/``, and their router before this one: a
    call id may hold ``/``.)"""
    masked = masks(request, user)
    return await in_db(request, lambda s: call_record(s, user, call_id, masked))


def ranged(request: Request, data: bytes, media_type: str) -> Response:
    """``data``, or the single byte range the request asks for (players seek with ranges)."""
    headers = {"Accept-Ranges": "bytes"}
    spec = request.headers.get("range", "")
    if not spec.startswith("bytes=") or "," in spec:
        return Response(data, media_type=media_type, headers=headers)
    first, _, last = spec[6:].partition("-")
    size = len(data)
    try:
        start = int(first) if first else max(0, size - int(last))
        end = min(size - 1, int(last)) if first and last else size - 1
    except ValueError:
        return Response(data, media_type=media_type, headers=headers)
    if start >= size or start > end:
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return Response(data[start : end + 1], status_code=206, media_type=media_type, headers=headers)


class AlertAction(BaseModel):
    note: str | None = Field(None, max_length=2000)


async def _alert_action(
    request: Request, alert_id: int, action: str, user: CurrentUser, services: Services, note: str | None
) -> dict[str, Any]:
    """Acknowledge or resolve an alert of a call in the supervisor's scope (404 for an alert of a
    call outside it, 409 when the alert's state does not allow the action)."""

    def check(s: Any) -> None:
        alert = repo.get_alert(s, alert_id)
        if not can_see_call(user, repo.get_call(s, alert.call_id)):
            raise NotFoundError(f"no alert {alert_id}")

    await in_db(request, check)
    await getattr(services.manager, action)(alert_id, user.username, note)
    masked = masks(request, user)
    return await in_db(request, lambda s: alert_json(repo.get_alert(s, alert_id), masked))


@router.post("/api/alerts/{alert_id}/acknowledge", dependencies=[Depends(csrf_protect)])
async def acknowledge_alert(
    request: Request,
    alert_id: RowId,
    user: SupervisorUser,
    services: ServicesDep,
    body: AlertAction | None = None,
) -> dict[str, Any]:
    note = body.note if body else None
    return await _alert_action(request, alert_id, "acknowledge_alert", user, services, note)


@router.post("/api/alerts/{alert_id}/resolve", dependencies=[Depends(csrf_protect)])
async def resolve_alert(
    request: Request,
    alert_id: RowId,
    user: SupervisorUser,
    services: ServicesDep,
    body: AlertAction | None = None,
) -> dict[str, Any]:
    note = body.note if body else None
    return await _alert_action(request, alert_id, "resolve_alert", user, services, note)


@router.get("/api/agent/current")
async def agent_current(request: Request, user: AgentUser, services: ServicesDep) -> dict[str, Any]:
    """The agent's live (or latest) call, its warnings and the ones already acknowledged."""
    # the floor's live calls: the agent's panel may be served by a node that does not hold the call
    live = [c for c in services.calls.live_calls() if c.info.agent_id == user.agent_id]
    masked = masks(request, user)

    def job(s: Any) -> dict[str, Any]:
        if live:
            call_id = live[0].call_id
        else:
            recent = repo.list_calls(s, agent_ids=[user.agent_id or ""], limit=1)
            if not recent:
                return {"call": None, "warnings": [], "acknowledged": []}
            call_id = recent[0].id
        call = visible_call(s, user, call_id)
        acks = repo.list_audit(
            s, actor=user.username, action="warning_acknowledged", object_type="call", object_id=call_id
        )
        # what the agent was warned or cued about live, as the pipeline decides it, but for hits
        # the final transcript withdrew
        hits = [
            h
            for h in repo.list_rule_hits(s, call_id)
            if str(h.status) != "withdrawn" and shown_to_agent(h.leg, Severity(h.severity), h.compliant)
        ]
        return {
            "call": call_json(call, masked),
            # the required disclosures, said / still due (live calls only: not stored)
            "checklist": [d.to_dict() for d in live[0].checklist] if live else [],
            "health": [health_json(h) for h in repo.list_signal_health(s, call_id)],
            "warnings": [hit_json(h, masked) for h in hits],
            "acknowledged": [dict(a.detail or {}) for a in acks],
        }

    return await in_db(request, job)


class WarningAck(BaseModel):
    call_id: str = Field(max_length=64)
    rule: str = Field(max_length=100)
    t: float


@router.post("/api/agent/ack", dependencies=[Depends(csrf_protect)])
async def agent_ack(request: Request, body: WarningAck, user: AgentUser) -> dict[str, Any]:
    """The agent acknowledges a warning (audited)."""

    def job(s: Any) -> None:
        visible_call(s, user, body.call_id)
        audit(s, user, "warning_acknowledged", "call", body.call_id, rule=body.rule, t=body.t)

    await in_db(request, job)
    return {"ok": True, "call_id": body.call_id, "rule": body.rule, "t": body.t}
