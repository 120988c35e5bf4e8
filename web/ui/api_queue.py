"""REST API of the QA queue at volume (qa, admin).

- ``GET /api/qa/queue``: one page of the flagged calls in the reader's scope: filters ``call``,
  ``agent``, ``team``, ``rule`` (case-insensitive, any part), ``q`` (transcript words, full-text
  index; for a role that sees numbers masked, QA by default, no digits nor spelled-out digits:
  422), ``level``, ``state``, ``mine`` (assigned to me), ``since``/``until`` (dates, both
  included, the days of ``tz``: an IANA time zone such as ``America/Chicago``, the browser's, so
  a day is the one the page shows the calls' dates in; UTC without it); ``sort`` (queued, date,
  duration, level, score, state) and ``order`` (asc, desc); ``limit``/``offset``. Returns
  ``items`` and ``total``.
- ``POST /api/qa/claim``: claim the call to review next (same filters; ``after`` skips the
  current one): it becomes in review by me, and of reviewers claiming at once each gets another
  call; a claim without a draft lapses after ``qa.claim_expiry_s``, a call assigned by hand to
  someone else never does; audited.
- ``GET /api/qa/next``: which call a claim would hand me now, claiming nothing.
- ``GET /api/qa/reviewers``: who a call can be assigned to (active qa and admin users).
- ``POST /api/qa/calls/{call_id}/assign``: assign the call (to ``reviewer``, default: me); audited.
  Assigned to someone else it is held for them (``assigned_by``: me) and never lapses; assigned to
  myself ("Take") it is a claim like Next's. A call held that way for someone else is assigned
  again only with ``take_over`` naming who holds it (409 otherwise, and when it has been given to
  someone else since the caller looked).
- ``POST /api/qa/calls/{call_id}/release``: put the call back in the queue (pending, nobody's):
  mine, anyone's claim, or, naming its holder in ``take_over``, one a lead assigned to someone
  else (409 otherwise); a finished call is refused (409); audited.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from agent_monitor.errors import InvalidRecordError, InvalidRequestError, NotFoundError
from agent_monitor.model.identifiers import time_zone
from agent_monitor.storage import QaState, Role, WarningLevel, repo
from agent_monitor.storage.repo import QueueQuery, QueueRow
from agent_monitor.storage.search import search_terms
from agent_monitor.storage.types import utcnow
from web.auth.deps import ReviewerUser, csrf_protect
from web.auth.scope import call_scope, can_see_call, masks
from web.masking import number_words
from web.services import ServicesDep, in_db
from web.ui.access import audit
from web.ui.serialize import call_json

router = APIRouter(tags=["qa"])

REVIEWER_ROLES = (Role.QA, Role.ADMIN)


def _zone(name: str) -> ZoneInfo | None:
    """The time zone ``name`` (IANA), None for UTC; an unknown name is a 422."""
    if not name:
        return None
    try:
        return time_zone(name)
    except ValueError as exc:
        raise InvalidRequestError(str(exc)) from exc


def _day(value: date | None, plus: int = 0, zone: ZoneInfo | None = None) -> datetime | None:
    """Midnight of ``value`` plus ``plus`` days in ``zone`` (UTC without one), as UTC; None for no
    bound (also past either end of the calendar: ``until=9999-12-31`` is no upper bound, not an
    overflow)."""
    if value is None or value > date.max - timedelta(days=plus):
        return None
    try:
        return datetime.combine(value + timedelta(days=plus), time(), zone or UTC).astimezone(UTC)
    except OverflowError:
        return None


def _searchable_by(request: Request, user: ReviewerUser, q: str) -> str:
    """``q``, refused (422) when it looks for a number that ``user`` sees masked."""
    if q.strip() and masks(request, user):
        numbers = number_words(search_terms(q))
        if numbers:
            raise InvalidRequestError(
                f"the text search cannot look for numbers ({', '.join(numbers)}): "
                "you see phone and card numbers masked"
            )
    return q


def queue_query(
    request: Request,
    user: ReviewerUser,
    call: Annotated[str, Query(max_length=64)] = "",
    agent: Annotated[str, Query(max_length=64)] = "",
    team: Annotated[str, Query(max_length=100)] = "",
    rule: Annotated[str, Query(max_length=100)] = "",
    q: Annotated[str, Query(max_length=200, description="words said in the call")] = "",
    level: Annotated[list[WarningLevel] | None, Query()] = None,
    state: Annotated[list[QaState] | None, Query()] = None,
    mine: bool = False,
    since: date | None = None,
    until: Annotated[date | None, Query(description="last day included")] = None,
    tz: Annotated[str, Query(max_length=64, description="IANA time zone of since/until")] = "",
    sort: Literal["queued", "date", "duration", "level", "score", "state"] = "queued",
    order: Literal["asc", "desc"] = "desc",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> QueueQuery:
    """The query parameters of the queue routes as one :class:`QueueQuery` in the user's scope."""
    scope = call_scope(user)
    return QueueQuery(
        call_id=call,
        agent=agent,
        team=team,
        rule=rule,
        text=_searchable_by(request, user, q),
        levels=level,
        states=state,
        assigned_to=user.username if mine else None,
        since=_day(since, 0, _zone(tz)),
        until=_day(until, 1, _zone(tz)),
        sort=sort,
        descending=order == "desc",
        limit=limit,
        offset=offset,
        scope={k: scope[k] for k in ("status", "levels") if k in scope},
    )


Queue = Annotated[QueueQuery, Depends(queue_query)]


def row_json(row: QueueRow, masked: bool) -> dict[str, Any]:
    return {
        "call": call_json(row.call, masked),
        "team": row.team,
        "duration": round(row.duration_s, 1),
        "level": str(row.item.level),
        "reason": row.item.reason,
        "queued_at": row.item.queued_at.isoformat(),
        "state": str(row.item.state),
        "assigned_to": row.item.assigned_to,
        "assigned_by": row.item.assigned_by,
        "score": row.score,
        "rules": list(row.rules),
    }


@router.get("/api/qa/queue")
async def qa_queue(request: Request, user: ReviewerUser, query: Queue) -> dict[str, Any]:
    """One page of the queue: matching entries in the chosen order, and how many match."""
    masked = masks(request, user)

    def job(s: Any) -> dict[str, Any]:
        page = repo.search_qa_queue(s, query)
        return {"items": [row_json(r, masked) for r in page.rows], "total": page.total}

    return await in_db(request, job)


@router.post("/api/qa/claim", dependencies=[Depends(csrf_protect)])
async def claim_next(
    request: Request,
    user: ReviewerUser,
    query: Queue,
    services: ServicesDep,
    after: Annotated[str, Query(max_length=64)] = "",
) -> dict[str, Any]:
    """Claim the open call to review next (highest level, longest waiting) for me, or ``null``
    when none is left; audited."""
    expiry_s = services.settings.qa.claim_expiry_s

    def job(s: Any) -> str | None:
        call_id = repo.claim_next(s, query, user.username, after or None, expiry_s=expiry_s)
        if call_id is not None:
            audit(s, user, "qa_claim", "call", call_id)
        return call_id

    return {"call_id": await in_db(request, job)}


@router.get("/api/qa/next")
async def next_call(
    request: Request,
    user: ReviewerUser,
    query: Queue,
    services: ServicesDep,
    after: Annotated[str, Query(max_length=64)] = "",
) -> dict[str, Any]:
    """The call ``POST /api/qa/claim`` would claim for me now, or ``null``; claims nothing."""
    stale_before = utcnow() - timedelta(seconds=services.settings.qa.claim_expiry_s)

    def job(s: Any) -> str | None:
        return repo.next_in_queue(s, query, user.username, after or None, stale_before=stale_before)

    return {"call_id": await in_db(request, job)}


@router.get("/api/qa/reviewers")
async def reviewers(request: Request, user: ReviewerUser) -> dict[str, Any]:
    """The active users a call can be assigned to."""

    def job(s: Any) -> list[str]:
        return [u.username for u in repo.list_users(s) if u.active and u.role in REVIEWER_ROLES]

    return {"reviewers": await in_db(request, job)}


class TakeOverIn(BaseModel):
    #: who holds the call by a lead's assignment, as the caller saw it and agreed to take it from;
    #: required to assign or release such a call for anyone else (409 without it, or when it is
    #: held by someone else by now)
    take_over: str | None = Field(None, max_length=100)


class AssignIn(TakeOverIn):
    #: who reviews the call (default: the signed-in user)
    reviewer: str | None = Field(None, max_length=100)


def _queued_call(s: Any, user: ReviewerUser, call_id: str) -> None:
    """404 unless the call is in the QA queue and in ``user``'s scope."""
    repo.get_qa_item(s, call_id)
    if not can_see_call(user, repo.get_call(s, call_id)):
        raise NotFoundError(f"call {call_id!r} is not in the QA queue")


def _audit_change(
    s: Any, user: ReviewerUser, action: str, call_id: str, take_over: str | None, **detail: Any
) -> None:
    """The audit record of an assignment or release, with the ``take_over`` the request named."""
    asked = {"take_over": take_over} if take_over else {}
    audit(s, user, action, "call", call_id, **detail, **asked)


@router.post("/api/qa/calls/{call_id:path}/assign", dependencies=[Depends(csrf_protect)])
async def assign(
    request: Request, call_id: str, user: ReviewerUser, body: AssignIn | None = None
) -> dict[str, Any]:
    """Assign the call to a reviewer (queue state in_review), held for them when it is not me;
    audited."""
    reviewer = (body.reviewer if body else None) or user.username

    take_over = body.take_over if body else None

    def job(s: Any) -> dict[str, Any]:
        _queued_call(s, user, call_id)
        target = repo.get_user(s, reviewer)
        if target is None or not target.active or target.role not in REVIEWER_ROLES:
            raise InvalidRecordError(f"{reviewer!r} is not an active QA reviewer")
        name = target.username  # as stored: the queue shows a reviewer the calls held for that name
        item = repo.assign_qa(s, call_id, name, by=user.username, take_over=take_over)
        _audit_change(s, user, "qa_assign", call_id, take_over, reviewer=name)
        return _held_json(call_id, item)

    return await in_db(request, job)


@router.post("/api/qa/calls/{call_id:path}/release", dependencies=[Depends(csrf_protect)])
async def release(
    request: Request, call_id: str, user: ReviewerUser, body: TakeOverIn | None = None
) -> dict[str, Any]:
    """Put the call back in the queue, nobody's; audited."""
    take_over = body.take_over if body else None

    def job(s: Any) -> dict[str, Any]:
        _queued_call(s, user, call_id)
        item = repo.release_qa(s, call_id, by=user.username, take_over=take_over)
        _audit_change(s, user, "qa_release", call_id, take_over)
        return _held_json(call_id, item)

    return await in_db(request, job)


def _held_json(call_id: str, item: Any) -> dict[str, Any]:
    """Who has the call now, as the assign and release routes answer."""
    return {
        "call_id": call_id,
        "state": str(item.state),
        "assigned_to": item.assigned_to,
        "assigned_by": item.assigned_by,
    }
