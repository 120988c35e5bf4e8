"""REST API of the QA pages.

- ``GET /api/qa/queue``: flagged calls to review (filters ``level``, ``agent``, ``rule``, ``state``,
  ``since``/``until`` dates) - qa, admin.
- ``GET /api/qa/scorecard``: the scorecard items.
- ``POST /api/qa/calls/{call_id}/assign``: take the call for review.
- ``POST /api/qa/calls/{call_id}/review``: save verdicts per alert, scorecard, notes (``done``
  closes the queue entry); audited.
- ``GET /api/calls/{call_id}/export.zip``: the evidence package (qa, supervisor, admin; audited).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from agent_monitor.errors import InvalidRequestError, NotFoundError
from agent_monitor.model.levels import WarningLevel
from agent_monitor.storage import QaState, Verdict, repo
from web.auth.deps import CurrentUser, ReplayUser, ReviewerUser, csrf_protect
from web.auth.scope import can_see_call, masks
from web.services import ServicesDep, in_db
from web.ui.access import audit
from web.ui.api_calls import call_record
from web.ui.export import build_evidence_zip, content_disposition
from web.ui.serialize import call_json

router = APIRouter(tags=["qa"])

#: the QA scorecard: item -> (English, Chinese); each scored 0 (failed), 1 (partly), 2 (met)
SCORECARD: dict[str, tuple[str, str]] = {
    "identification": ("Agent identified self and company", "坐席表明身份和公司"),
    "disclosure": ("Required disclosures given", "必要告知已说明"),
    "respect": ("Respectful language, no threats", "用语文明，无威胁"),
    "accuracy": ("Accurate debt information", "债务信息准确"),
    "resolution": ("Handled the debtor's concerns", "妥善处理债务人诉求"),
}


def _day(value: date | None, plus: int = 0) -> datetime | None:
    return None if value is None else datetime.combine(value + timedelta(days=plus), time(), UTC)


@router.get("/api/qa/queue")
async def qa_queue(
    request: Request,
    user: ReviewerUser,
    level: Annotated[list[WarningLevel] | None, Query()] = None,
    state: Annotated[list[QaState] | None, Query()] = None,
    agent: Annotated[str | None, Query(max_length=64)] = None,
    rule: Annotated[str | None, Query(max_length=100)] = None,
    since: date | None = None,
    until: Annotated[date | None, Query(description="last day included")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Flagged calls to review, newest first, filtered by level, state, agent, rule and dates."""
    masked = masks(request, user)

    def job(s: Any) -> list[dict[str, Any]]:
        items = repo.list_qa_queue(
            s,
            states=state,
            levels=level,
            agent_id=agent or None,
            rule_id=rule or None,
            since=_day(since),
            until=_day(until, 1),
            limit=limit,
        )
        out = []
        for item in items:
            call = repo.get_call(s, item.call_id)
            if not can_see_call(user, call):
                continue
            rules = sorted({h.rule_id for h in repo.list_rule_hits(s, call.id)})
            out.append(
                {
                    "call": call_json(call, masked),
                    "level": str(item.level),
                    "reason": item.reason,
                    "queued_at": item.queued_at.isoformat(),
                    "state": str(item.state),
                    "assigned_to": item.assigned_to,
                    "rules": rules,
                }
            )
        return out

    return {"items": await in_db(request, job)}


@router.get("/api/qa/scorecard")
async def scorecard(user: ReviewerUser) -> dict[str, Any]:
    """The QA scorecard items (each scored 0, 1 or 2)."""
    return {"items": [{"key": k, "en": en, "zh": zh, "max": 2} for k, (en, zh) in SCORECARD.items()]}


def _queued_visible(s: Any, user: CurrentUser, call_id: str) -> None:
    """Nothing when the call is queued for QA and in the user's scope; :class:`NotFoundError` else."""
    repo.get_qa_item(s, call_id)  # NotFoundError when it is not queued
    if not can_see_call(user, repo.get_call(s, call_id)):
        raise NotFoundError(f"call {call_id!r} is not in the QA queue")


@router.post("/api/qa/calls/{call_id:path}/assign", dependencies=[Depends(csrf_protect)])
async def assign(request: Request, call_id: str, user: ReviewerUser) -> dict[str, Any]:
    """The reviewer takes the call (queue state in_review)."""

    def job(s: Any) -> dict[str, Any]:
        _queued_visible(s, user, call_id)
        item = repo.assign_qa(s, call_id, user.username)
        return {"call_id": call_id, "state": str(item.state), "assigned_to": item.assigned_to}

    return await in_db(request, job)


class ReviewIn(BaseModel):
    scorecard: dict[str, int] = Field(default_factory=dict)
    notes: str = Field("", max_length=20000)
    verdicts: dict[int, Verdict] = Field(default_factory=dict)
    done: bool = False


@router.post("/api/qa/calls/{call_id:path}/review", dependencies=[Depends(csrf_protect)])
async def save_review(request: Request, call_id: str, body: ReviewIn, user: ReviewerUser) -> dict[str, Any]:
    """Save the reviewer's verdicts per alert, scorecard and notes; ``done`` closes the entry (audited)."""
    unknown = sorted(set(body.scorecard) - set(SCORECARD))
    if unknown:
        raise InvalidRequestError(f"unknown scorecard items: {', '.join(unknown)}")
    bad = sorted(k for k, v in body.scorecard.items() if not 0 <= v <= 2)
    if bad:
        raise InvalidRequestError(f"scorecard scores must be 0, 1 or 2: {', '.join(bad)}")

    def job(s: Any) -> dict[str, Any]:
        _queued_visible(s, user, call_id)
        review = repo.save_review(
            s,
            call_id,
            user.username,
            scorecard=body.scorecard,
            notes=body.notes,
            verdicts=body.verdicts,
            done=body.done,
        )
        verdicts = {str(v.alert_id): str(v.verdict) for v in review.verdicts}
        audit(s, user, "qa_review", "call", call_id, verdicts=verdicts, done=body.done)
        return {"call_id": call_id, "reviewer": user.username, "verdicts": verdicts, "done": body.done}

    return await in_db(request, job)


@router.get("/api/calls/{call_id:path}/export.zip", response_class=Response)
async def export(request: Request, call_id: str, user: ReplayUser, services: ServicesDep) -> Response:
    """The evidence package (zip with audio, transcript, alerts, review and SHA256SUMS); audited."""
    masked = masks(request, user)
    data_dir = services.settings.data_dir
    # everything that can fail happens before the audit row is written in the same transaction
    headers = {"Content-Disposition": content_disposition(call_id)}

    def job(s: Any) -> bytes:
        record = call_record(s, user, call_id, masked)
        data, sums = build_evidence_zip(s, record, data_dir, user.username, masked)
        audit(s, user, "evidence_export", "call", call_id, masked=masked, files=sums)
        return data

    data = await in_db(request, job)
    return Response(data, media_type="application/zip", headers=headers)
