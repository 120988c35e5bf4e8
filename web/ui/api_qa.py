"""REST API of the QA pages (the queue itself: :mod:`web.ui.api_queue`; forms: :mod:`web.ui.api_forms`).

- ``GET /api/qa/scorecard``: the current scorecard form.
- ``POST /api/qa/calls/{call_id}/review``: save verdicts per alert, scorecard, notes (``done``
  closes the queue entry); audited.
- ``GET /api/calls/{call_id}/export.zip``: the evidence package (qa, supervisor, admin; audited).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, StrictInt

from agent_monitor.errors import NotFoundError
from agent_monitor.storage import Verdict, repo
from web.auth.deps import CurrentUser, ReplayUser, ReviewerUser, csrf_protect
from web.auth.scope import can_see_call, masks
from web.head import is_head
from web.params import RowIdKey
from web.services import ServicesDep, in_db
from web.ui.access import audit
from web.ui.api_calls import call_record
from web.ui.api_forms import form_json
from web.ui.export import build_evidence_zip, content_disposition
from web.ui.serialize import iso

router = APIRouter(tags=["qa"])


@router.get("/api/qa/scorecard")
async def scorecard(request: Request, user: ReviewerUser) -> dict[str, Any]:
    """The items of the current scorecard form (see ``/api/qa/forms``)."""
    return await in_db(request, lambda s: form_json(repo.current_form(s)))


def _queued_visible(s: Any, user: CurrentUser, call_id: str) -> None:
    repo.get_qa_item(s, call_id)
    if not can_see_call(user, repo.get_call(s, call_id)):
        raise NotFoundError(f"call {call_id!r} is not in the QA queue")


class ReviewIn(BaseModel):
    #: item key -> a score, "na" (not applicable) or null (not scored yet)
    scorecard: dict[Annotated[str, Field(max_length=64)], StrictInt | Literal["na"] | None] = Field(
        default_factory=dict, max_length=50
    )
    #: item key -> comment (a failed item may require one)
    comments: dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=2000)]] = Field(
        default_factory=dict, max_length=50
    )
    notes: str = Field("", max_length=20000)
    verdicts: dict[RowIdKey, Verdict] = Field(default_factory=dict)
    done: bool = False


@router.post("/api/qa/calls/{call_id:path}/review", dependencies=[Depends(csrf_protect)])
async def save_review(request: Request, call_id: str, body: ReviewIn, user: ReviewerUser) -> dict[str, Any]:
    """Save the reviewer's verdicts per alert, scorecard (on the review's form version) and
    notes; ``done`` closes the entry and is refused while an item is not scored (audited)."""

    def job(s: Any) -> dict[str, Any]:
        _queued_visible(s, user, call_id)
        review = repo.save_review(
            s,
            call_id,
            user.username,
            scorecard=body.scorecard,
            comments=body.comments,
            notes=body.notes,
            verdicts=body.verdicts,
            done=body.done,
        )
        verdicts = {str(v.alert_id): str(v.verdict) for v in review.verdicts}
        audit(s, user, "qa_review", "call", call_id, verdicts=verdicts, done=body.done, score=review.score)
        return {
            "call_id": call_id,
            "reviewer": user.username,
            "verdicts": verdicts,
            "done": body.done,
            "score": review.score,
            "form_id": review.form_id,
            "finished_at": iso(review.finished_at),
        }

    return await in_db(request, job)


@router.get("/api/calls/{call_id:path}/export.zip", response_class=Response)
async def export(request: Request, call_id: str, user: ReplayUser, services: ServicesDep) -> Response:
    """The evidence package (zip with audio, transcript, alerts, review and SHA256SUMS); audited (a
    ``HEAD`` as ``evidence_export_head``: the package is built for its length, not sent)."""
    masked = masks(request, user)
    head = is_head(request)
    data_dir = services.settings.media_dir
    # everything that can fail happens before the audit row is written in the same transaction
    headers = {"Content-Disposition": content_disposition(call_id)}

    def job(s: Any) -> bytes:
        record = call_record(s, user, call_id, masked)
        data, sums = build_evidence_zip(s, record, data_dir, user.username, masked)
        action = "evidence_export_head" if head else "evidence_export"
        audit(s, user, action, "call", call_id, masked=masked, files=sums)
        return data

    data = await in_db(request, job)
    return Response(data, media_type="application/zip", headers=headers)
