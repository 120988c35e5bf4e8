"""REST API of the QA scorecard forms (versioned; editing a form adds a version).

- ``GET /api/qa/forms``: every version of every form (qa, admin).
- ``GET /api/qa/forms/current``: the form new reviews are scored on (qa, admin).
- ``GET /api/qa/forms/{form_id}``: one form version (qa, admin; a review names the one it used).
- ``POST /api/qa/forms``: save a form ``{"name", "title", "items": [...]}`` as its next version
  (admin; audited).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request

from agent_monitor.model.scorecard import ScorecardForm
from agent_monitor.storage import repo
from agent_monitor.storage.tables import QaForm
from web.auth.deps import AdminUser, ReviewerUser, csrf_protect
from web.params import RowId
from web.services import in_db
from web.ui.access import audit

router = APIRouter(tags=["qa"])


def form_json(row: QaForm) -> dict[str, Any]:
    return {
        "form_id": row.id,
        "name": row.name,
        "version": row.version,
        "title": row.title,
        "items": list(row.items),
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat(),
    }


@router.get("/api/qa/forms")
async def list_forms(request: Request, user: ReviewerUser) -> dict[str, Any]:
    """Every stored form version (the default form among them: seeded here as for a review, so
    the form editor lists the version the review pages score on)."""

    def job(s: Any) -> list[dict[str, Any]]:
        repo.current_form(s)
        return [form_json(f) for f in repo.list_forms(s)]

    return {"forms": await in_db(request, job)}


@router.get("/api/qa/forms/current")
async def current_form(request: Request, user: ReviewerUser) -> dict[str, Any]:
    """The form new reviews are scored on."""
    return await in_db(request, lambda s: form_json(repo.current_form(s)))


@router.get("/api/qa/forms/{form_id}")
async def get_form(request: Request, form_id: RowId, user: ReviewerUser) -> dict[str, Any]:
    """One form version."""
    return await in_db(request, lambda s: form_json(repo.get_form(s, form_id)))


@router.post("/api/qa/forms", dependencies=[Depends(csrf_protect)])
async def save_form(
    request: Request, body: Annotated[dict[str, Any], Body()], user: AdminUser
) -> dict[str, Any]:
    """Save a form as the next version of its name (an unchanged form keeps its version); audited."""
    form = ScorecardForm.parse(body)

    def job(s: Any) -> dict[str, Any]:
        row = repo.save_form(s, form, user.username)
        audit(s, user, "qa_form_save", "qa_form", f"{row.name}@{row.version}", items=len(form.items))
        return form_json(row)

    return await in_db(request, job)
