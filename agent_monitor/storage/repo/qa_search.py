"""Searching the QA queue at volume: filters (call id, agent, team, rule, level, state, reviewer,
dates, transcript words), a sort column, pages, and the next call to review.

Call id, agent, team and rule match case-insensitively anywhere in the value ("insult" finds
``abuse.insult``); transcript words go through the full-text index (:mod:`..search`), never a
``LIKE`` scan of the transcripts.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import ColumnElement, Float, Select, case, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from agent_monitor.model.levels import WarningLevel
from agent_monitor.storage.enums import HitStatus, QaState
from agent_monitor.storage.search import calls_saying
from agent_monitor.storage.tables import Agent, Call, QaQueueItem, QaReview, RuleHitRow
from agent_monitor.storage.types import as_utc

SortKey = Literal["queued", "date", "duration", "level", "score", "state"]
SORT_KEYS: tuple[str, ...] = ("queued", "date", "duration", "level", "score", "state")
MAX_PAGE = 500


class call_seconds(FunctionElement[float]):
    """A call's length in seconds (``ended_at - started_at``; 0 while it runs), per dialect."""

    type = Float()
    inherit_cache = True


@compiles(call_seconds, "sqlite")
def _sqlite_seconds(element: call_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return "((julianday(coalesce(calls.ended_at, calls.started_at)) - julianday(calls.started_at)) * 86400.0)"


@compiles(call_seconds, "postgresql")
def _pg_seconds(element: call_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return "extract(epoch FROM coalesce(calls.ended_at, calls.started_at) - calls.started_at)"


@dataclass(frozen=True)
class QueueQuery:
    """What a reviewer asks of the queue; empty strings / ``None`` mean "any"."""

    call_id: str = ""
    agent: str = ""
    team: str = ""
    rule: str = ""
    text: str = ""
    levels: Collection[WarningLevel] | None = None
    states: Collection[QaState] | None = None
    assigned_to: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    sort: SortKey = "queued"
    descending: bool = True
    limit: int = 50
    offset: int = 0
    #: the reader's scope (``web.auth.scope.call_scope``): ``status`` / ``levels`` of the call
    scope: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class QueueRow:
    item: QaQueueItem
    call: Call
    team: str | None
    duration_s: float
    score: float | None
    rules: tuple[str, ...]


@dataclass(frozen=True)
class QueuePage:
    rows: tuple[QueueRow, ...]
    total: int


def _contains(column: Any, needle: str) -> ColumnElement[bool]:
    escaped = needle.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


def _level_rank(column: Any) -> Any:
    return case({lv.value: lv.rank for lv in WarningLevel}, value=column, else_=0)


def _best_scores() -> Any:
    """Each reviewed call's best review score (one aggregate, joined, not a lookup per row)."""
    return (
        select(QaReview.call_id.label("call_id"), func.max(QaReview.score).label("best"))
        .group_by(QaReview.call_id)
        .subquery("best_scores")
    )


def _filtered(session: Session, q: QueueQuery, stmt: Select[Any], *, agents: bool = False) -> Select[Any]:
    """``stmt`` over the queue joined with the calls (and the agents when a filter or the caller
    needs them), narrowed by every filter of ``q``."""
    stmt = stmt.join(Call, Call.id == QaQueueItem.call_id)
    if agents or q.agent.strip() or q.team.strip():
        stmt = stmt.join(Agent, Agent.id == Call.agent_id)
    if q.scope.get("status") is not None:
        stmt = stmt.where(Call.status.in_(list(q.scope["status"])))
    if q.scope.get("levels") is not None:
        stmt = stmt.where(Call.final_level.in_(list(q.scope["levels"])))
    if q.call_id.strip():
        stmt = stmt.where(_contains(Call.id, q.call_id.strip()))
    if q.agent.strip():
        stmt = stmt.where(
            or_(_contains(Call.agent_id, q.agent.strip()), _contains(Agent.name, q.agent.strip()))
        )
    if q.team.strip():
        stmt = stmt.where(_contains(Agent.team, q.team.strip()))
    if rule := q.rule.strip():
        stmt = stmt.where(QaQueueItem.call_id.in_(_calls_with_rule(session, rule)))
    if q.text.strip():
        stmt = stmt.where(QaQueueItem.call_id.in_(calls_saying(session, q.text)))
    if q.levels:
        stmt = stmt.where(QaQueueItem.level.in_(list(q.levels)))
    if q.states:
        stmt = stmt.where(QaQueueItem.state.in_(list(q.states)))
    if q.assigned_to is not None:
        stmt = stmt.where(QaQueueItem.assigned_to == q.assigned_to)
    if q.since is not None:
        stmt = stmt.where(Call.started_at >= as_utc(q.since, "since"))
    if q.until is not None:
        stmt = stmt.where(Call.started_at < as_utc(q.until, "until"))
    return stmt


def _calls_with_rule(session: Session, needle: str) -> Select[str]:
    """The calls with a (not withdrawn) hit of a rule whose id or title contains ``needle``: the
    few distinct rules are matched first, then their hits found through the rule-id index."""
    rules = list(
        session.scalars(
            select(RuleHitRow.rule_id)
            .where(or_(_contains(RuleHitRow.rule_id, needle), _contains(RuleHitRow.title, needle)))
            .distinct()
        )
    )
    return select(RuleHitRow.call_id).where(
        RuleHitRow.rule_id.in_(rules), RuleHitRow.status != HitStatus.WITHDRAWN
    )


def _order(q: QueueQuery, best: Any) -> list[Any]:
    column = {
        "queued": QaQueueItem.queued_at,
        "date": Call.started_at,
        "duration": call_seconds(),
        "level": _level_rank(QaQueueItem.level),
        "score": best,
        "state": case({"pending": 0, "in_review": 1, "done": 2}, value=QaQueueItem.state, else_=3),
    }[q.sort]
    if q.sort == "score":  # calls without a score last either way
        return [column.is_(None), column.desc() if q.descending else column.asc(), QaQueueItem.id]
    return [column.desc() if q.descending else column.asc(), QaQueueItem.id]


def search_qa_queue(session: Session, q: QueueQuery) -> QueuePage:
    """One page of the queue entries matching ``q``, in its sort order, and how many match."""
    total = session.scalar(_filtered(session, q, select(func.count(QaQueueItem.id)))) or 0
    scores = _best_scores()
    columns = select(QaQueueItem, Call, Agent.team, call_seconds(), scores.c.best)
    stmt = _filtered(session, q, columns, agents=True)
    stmt = stmt.outerjoin(scores, scores.c.call_id == QaQueueItem.call_id)
    stmt = (
        stmt.order_by(*_order(q, scores.c.best))
        .limit(max(1, min(q.limit, MAX_PAGE)))
        .offset(max(0, q.offset))
    )
    found = session.execute(stmt).all()
    rules = _rules_of(session, [row[1].id for row in found])
    rows = tuple(
        QueueRow(item, call, team, float(seconds or 0.0), score, rules.get(call.id, ()))
        for item, call, team, seconds, score in found
    )
    return QueuePage(rows, int(total))


def open_to(reviewer: str, stale_before: datetime | None = None) -> ColumnElement[bool]:
    """The queue entries ``reviewer`` may be handed: pending, or in review by nobody or by them;
    with ``stale_before``, also those in review by someone else whose claim is older than it and
    who saved no draft of the call (a lapsed claim: ``qa.claim_expiry_s``), unless it was
    assigned to them by hand (``assigned_by``: a hand assignment never lapses)."""
    in_review = QaQueueItem.state == QaState.IN_REVIEW
    open_ = or_(
        QaQueueItem.state == QaState.PENDING,
        in_review & or_(QaQueueItem.assigned_to.is_(None), QaQueueItem.assigned_to == reviewer),
    )
    if stale_before is None:
        return open_
    draft = (
        select(QaReview.id)
        .where(QaReview.call_id == QaQueueItem.call_id, QaReview.reviewer == QaQueueItem.assigned_to)
        .exists()
    )
    old = or_(QaQueueItem.claimed_at.is_(None), QaQueueItem.claimed_at < as_utc(stale_before, "stale_before"))
    return or_(open_, in_review & old & ~draft & QaQueueItem.assigned_by.is_(None))


def assigned_by_on_claim(reviewer: str) -> ColumnElement[str | None]:
    """``qa_queue.assigned_by`` once ``reviewer`` claimed the entry (by "next", "Take" or a
    draft), in the ``SET`` of the claiming ``UPDATE``: a hand assignment to ``reviewer`` is kept
    (their claim of the call they were given stays held), any other holding ends (``NULL``: the
    claim lapses)."""
    return case((QaQueueItem.assigned_to == reviewer, QaQueueItem.assigned_by), else_=None)


def next_in_queue(
    session: Session,
    q: QueueQuery,
    reviewer: str,
    after: str | None = None,
    *,
    stale_before: datetime | None = None,
) -> str | None:
    """The call to review next (see :func:`next_entry`), without claiming it."""
    found = next_entry(session, q, reviewer, after, stale_before=stale_before)
    return found[1] if found is not None else None


def next_entry(
    session: Session,
    q: QueueQuery,
    reviewer: str,
    after: str | None = None,
    *,
    stale_before: datetime | None = None,
    skip: Collection[int] = (),
) -> tuple[int, str] | None:
    """The queue entry (id, call id) to review next: the highest level, longest waiting entry
    open to ``reviewer`` (:func:`open_to`) among those ``q`` admits, other than the call ``after``
    and the entries ``skip``. One indexed query per level (``ix_qa_queue_level_queued``), highest
    first."""
    open_to_me = open_to(reviewer, stale_before)
    columns = cast("Select[Any]", select(QaQueueItem.id, QaQueueItem.call_id))
    for level in sorted(q.levels or list(WarningLevel), key=lambda lv: WarningLevel(lv).rank, reverse=True):
        stmt = _filtered(session, q, columns).where(open_to_me, QaQueueItem.level == level)
        if after:
            stmt = stmt.where(QaQueueItem.call_id != after)
        if skip:
            stmt = stmt.where(QaQueueItem.id.not_in(list(skip)))
        found = session.execute(stmt.order_by(QaQueueItem.queued_at, QaQueueItem.id).limit(1)).first()
        if found is not None:
            return int(found[0]), str(found[1])
    return None


def _rules_of(session: Session, call_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
    if not call_ids:
        return {}
    stmt = (
        select(RuleHitRow.call_id, RuleHitRow.rule_id)
        .where(RuleHitRow.call_id.in_(list(call_ids)), RuleHitRow.status != HitStatus.WITHDRAWN)
        .distinct()
    )
    out: dict[str, set[str]] = {}
    for call_id, rule_id in session.execute(stmt):
        out.setdefault(call_id, set()).add(rule_id)
    return {k: tuple(sorted(v)) for k, v in out.items()}
