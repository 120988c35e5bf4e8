"""The QA queue of flagged calls and the reviews (scorecard, notes, a verdict per alert)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, case, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from agent_monitor.errors import ConflictError, InvalidRecordError, InvalidTransitionError, NotFoundError
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.scorecard import ItemValue, check_scorecard
from agent_monitor.storage.enums import HitStatus, QaState, Verdict
from agent_monitor.storage.repo.calls import get_call
from agent_monitor.storage.repo.qa_forms import current_form, get_form, to_form
from agent_monitor.storage.repo.qa_search import assigned_by_on_claim, open_to
from agent_monitor.storage.tables import Alert, Call, QaQueueItem, QaReview, QaVerdict, RuleHitRow
from agent_monitor.storage.types import as_utc, utcnow


def enqueue_for_qa(
    session: Session, call_id: str, level: WarningLevel, reason: str, *, at: datetime | None = None
) -> QaQueueItem:
    """Queue a call for review; queuing it again keeps one entry, raises its level if higher and
    adds the reason."""
    get_call(session, call_id)
    level = WarningLevel(level)
    item = session.scalars(select(QaQueueItem).where(QaQueueItem.call_id == call_id)).one_or_none()
    if item is None:
        item = QaQueueItem(
            call_id=call_id, level=level, reason=reason, queued_at=as_utc(at), state=QaState.PENDING
        )
        session.add(item)
        session.flush()
        return item
    if level.rank > item.level.rank:
        item.level = level
    if reason and reason not in item.reason.split("; "):
        item.reason = f"{item.reason}; {reason}" if item.reason else reason
    return item


def get_qa_item(session: Session, call_id: str) -> QaQueueItem:
    item = session.scalars(select(QaQueueItem).where(QaQueueItem.call_id == call_id)).one_or_none()
    if item is None:
        raise NotFoundError(f"call {call_id!r} is not in the QA queue")
    return item


def list_qa_queue(
    session: Session,
    *,
    states: Collection[QaState] | None = None,
    levels: Collection[WarningLevel] | None = None,
    agent_id: str | None = None,
    rule_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[QaQueueItem]:
    """Queue entries matching every filter, newest first: ``levels`` of the entry, ``agent_id``
    of the call, ``rule_id`` of a (not withdrawn) rule hit, ``since``/``until`` on the call start."""
    stmt = (
        select(QaQueueItem)
        .join(Call, Call.id == QaQueueItem.call_id)
        .order_by(QaQueueItem.queued_at.desc(), QaQueueItem.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if states is not None:
        stmt = stmt.where(QaQueueItem.state.in_(list(states)))
    if levels is not None:
        stmt = stmt.where(QaQueueItem.level.in_(list(levels)))
    if agent_id is not None:
        stmt = stmt.where(Call.agent_id == agent_id)
    if rule_id is not None:
        stmt = stmt.where(
            select(RuleHitRow.id)
            .where(
                RuleHitRow.call_id == QaQueueItem.call_id,
                RuleHitRow.rule_id == rule_id,
                RuleHitRow.status != HitStatus.WITHDRAWN,
            )
            .exists()
        )
    if since is not None:
        stmt = stmt.where(Call.started_at >= as_utc(since, "since"))
    if until is not None:
        stmt = stmt.where(Call.started_at < as_utc(until, "until"))
    return list(session.scalars(stmt))


def assign_qa(
    session: Session, call_id: str, reviewer: str, *, by: str, take_over: str | None = None
) -> QaQueueItem:
    """The call is given to ``reviewer`` by the user ``by`` (state ``in_review``, unless already
    done), claimed now. Given by someone else it is held by a hand assignment (``assigned_by``):
    it never lapses, and stays ``reviewer``'s until they finish it or it is assigned again. Taken
    by ``reviewer`` themself ("Take") it is a claim like "next"'s, which lapses after
    ``qa.claim_expiry_s`` without a draft (a hand assignment to them already is kept).

    A call held by hand for someone other than ``reviewer`` is only assigned again when
    ``take_over`` names who holds it (the holder the caller saw and agreed to take it from):
    otherwise, or when it has been given to someone else since, :class:`ConflictError`."""
    item = get_qa_item(session, call_id)
    # one conditional statement, checked again on the locked row: a lead's assignment made since
    # the caller looked is not overwritten
    free = or_(
        QaQueueItem.state != QaState.IN_REVIEW,
        QaQueueItem.assigned_to.is_(None),
        QaQueueItem.assigned_by.is_(None),
        QaQueueItem.assigned_to.in_([reviewer] if take_over is None else [reviewer, take_over]),
    )
    now = utcnow()
    written = session.execute(
        update(QaQueueItem)
        .where(QaQueueItem.id == item.id, free)
        .values(
            assigned_to=reviewer,
            assigned_by=by if by != reviewer else assigned_by_on_claim(reviewer),
            claimed_at=now,
            updated_at=now,
            state=case((QaQueueItem.state == QaState.PENDING, QaState.IN_REVIEW), else_=QaQueueItem.state),
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(item)
    if cast("CursorResult[Any]", written).rowcount != 1:
        raise _held_elsewhere(call_id, item)
    return item


def release_qa(session: Session, call_id: str, *, by: str, take_over: str | None = None) -> QaQueueItem:
    """The call goes back to the queue (pending, nobody's; "—" in "Assigned to"), released by the
    user ``by``: their own call, a claim of anyone's, or, when ``take_over`` names its holder, a
    call a lead assigned to someone else (:class:`ConflictError` otherwise, or when it has been
    given to someone else since, as for :func:`assign_qa`). A pending call stays as it is; a
    finished one cannot be released (:class:`InvalidTransitionError`: a review saved as a draft
    again reopens it). Drafts are kept."""
    item = get_qa_item(session, call_id)
    mine = [by] if take_over is None else [by, take_over]
    written = session.execute(
        update(QaQueueItem)
        .where(
            QaQueueItem.id == item.id,
            QaQueueItem.state == QaState.IN_REVIEW,
            or_(QaQueueItem.assigned_by.is_(None), QaQueueItem.assigned_to.in_(mine)),
        )
        .values(
            state=QaState.PENDING, assigned_to=None, assigned_by=None, claimed_at=None, updated_at=utcnow()
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(item)
    if cast("CursorResult[Any]", written).rowcount == 1 or item.state is QaState.PENDING:
        return item
    if item.state is QaState.DONE:
        raise InvalidTransitionError(
            f"call {call_id!r} is finished: it stays with {item.assigned_to!r} (saving a review of it "
            "as a draft again reopens it)"
        )
    raise _held_elsewhere(call_id, item)


def _held_elsewhere(call_id: str, item: QaQueueItem) -> ConflictError:
    holder = _held_by_hand(item)
    return ConflictError(
        f"call {call_id!r} is held for {holder!r} (assigned by {item.assigned_by!r}); "
        f"to take it over from them, send take_over: {holder!r}"
    )


def _held_by_hand(item: QaQueueItem) -> str | None:
    """Who the entry is held for by a hand assignment (in review, given to them by someone
    else: it never lapses), or None."""
    if item.state is QaState.IN_REVIEW and item.assigned_to and item.assigned_by:
        return item.assigned_to
    return None


def save_review(
    session: Session,
    call_id: str,
    reviewer: str,
    *,
    scorecard: Mapping[str, ItemValue],
    notes: str = "",
    verdicts: Mapping[int, Verdict | str] | None = None,
    done: bool = False,
    comments: Mapping[str, str] | None = None,
) -> QaReview:
    """Create or update ``reviewer``'s review of the call. ``verdicts`` maps alert ids of this
    call to confirmed / false_alarm (given ones replace earlier ones; others are kept).

    The scorecard is checked against the form version the review was first saved on (the current
    form for a new review) and its score kept with it; ``done=True`` refuses items not scored
    and failed items lacking a required comment, then marks the review finished (saving it as a
    draft again unmarks it) and the call's queue entry done; a draft claims the entry for
    ``reviewer`` (see :func:`_follow_review`)."""
    get_call(session, call_id)
    verdicts = dict(verdicts or {})
    _check_alerts_of_call(session, call_id, list(verdicts))
    now = utcnow()
    review = _locked_review(session, call_id, reviewer) or _new_review(session, call_id, reviewer, now)
    form = get_form(session, review.form_id) if review.form_id else current_form(session)
    comments = {k: v for k, v in (comments or {}).items() if v.strip()}
    score = check_scorecard(to_form(form), scorecard, comments, finishing=done)
    review.scorecard, review.comments, review.notes = dict(scorecard), comments, notes
    review.form_id, review.score, review.updated_at = form.id, score, now
    reopened = review.finished_at is not None and not done
    review.finished_at = now if done else None
    existing = {v.alert_id: v for v in review.verdicts}
    for alert_id, verdict in verdicts.items():
        if alert_id in existing:
            existing[alert_id].verdict = Verdict(verdict)
        else:
            review.verdicts.append(QaVerdict(alert_id=alert_id, verdict=Verdict(verdict)))
    _follow_review(session, call_id, reviewer, done=done, reopened=reopened)
    session.flush()
    return review


def _locked_review(session: Session, call_id: str, reviewer: str) -> QaReview | None:
    """``reviewer``'s review of the call with its verdicts, locked for this transaction: a save of
    it at the same moment (a second tab, a double click) waits for this one and then reads what
    it wrote (PostgreSQL locks the row; SQLite takes its one write lock before reading), instead
    of adding the same verdict row again (a 500). None when they have not saved one."""
    mine = (QaReview.call_id == call_id, QaReview.reviewer == reviewer)
    session.execute(
        update(QaReview)
        .where(*mine)
        .values(updated_at=QaReview.updated_at)
        .execution_options(synchronize_session=False)
    )
    stmt = select(QaReview).where(*mine).options(selectinload(QaReview.verdicts))
    return session.scalars(stmt.execution_options(populate_existing=True)).one_or_none()


def _new_review(session: Session, call_id: str, reviewer: str, now: datetime) -> QaReview:
    """A new review of the call by ``reviewer``, locked; when a save of theirs at the same moment
    created it first, that one, so both saves are kept, the later one last (the second insert
    broke the one-review-per-reviewer rule: a 500). One ``INSERT ... ON CONFLICT DO NOTHING``
    (no savepoint: committing one seals early and takes the hash chains' locks out of order)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    row = {"call_id": call_id, "reviewer": reviewer, "scorecard": {}, "notes": ""}
    session.execute(
        insert(QaReview)
        .values(**row, created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["call_id", "reviewer"])
    )
    found = _locked_review(session, call_id, reviewer)
    assert found is not None  # inserted now, or by the save that won
    return found


def _follow_review(session: Session, call_id: str, reviewer: str, *, done: bool, reopened: bool) -> None:
    """The call's queue entry after ``reviewer`` saved their review: a finished review completes
    it; a draft claims an open entry for its reviewer (pending, or in review by nobody, becomes in
    review by them, so "next" hands it to nobody else; their own claim is renewed), leaving one in
    review by someone else theirs; a finished review saved as a draft again reopens a done entry
    for its reviewer when no other finished review is left. A claim keeps a hand assignment to
    ``reviewer`` (``assigned_by``) and ends any other (:func:`.qa_search.assigned_by_on_claim`)."""
    item = session.scalars(select(QaQueueItem).where(QaQueueItem.call_id == call_id)).one_or_none()
    if item is None:
        return
    if done:
        item.state = QaState.DONE
        item.assigned_to = item.assigned_to or reviewer
    elif reopened and item.state is QaState.DONE and not _finished_review(session, call_id):
        # back in the work queue, theirs (held still if it was given to them by hand)
        if item.assigned_to != reviewer:
            item.assigned_by = None
        item.state, item.assigned_to, item.claimed_at = QaState.IN_REVIEW, reviewer, utcnow()
    elif item.state is not QaState.DONE:
        # one statement, so that of two reviewers saving drafts of a pending call at once the
        # first keeps it (the condition is checked again on the locked row); the row is written
        # also when it is already theirs, so a claim of it by "next" at that moment waits for the
        # draft and sees the claim renewed
        session.execute(
            update(QaQueueItem)
            .where(QaQueueItem.id == item.id, open_to(reviewer))
            .values(
                state=QaState.IN_REVIEW,
                assigned_to=reviewer,
                assigned_by=assigned_by_on_claim(reviewer),
                claimed_at=utcnow(),
            )
            .execution_options(synchronize_session="fetch")
        )


def _finished_review(session: Session, call_id: str) -> bool:
    """Whether any reviewer's review of the call is finished (after the pending changes)."""
    session.flush()
    found = session.scalars(
        select(QaReview.id).where(QaReview.call_id == call_id, QaReview.finished_at.is_not(None)).limit(1)
    ).first()
    return found is not None


def _check_alerts_of_call(session: Session, call_id: str, alert_ids: list[int]) -> None:
    if not alert_ids:
        return
    found = set(session.scalars(select(Alert.id).where(Alert.call_id == call_id, Alert.id.in_(alert_ids))))
    missing = sorted(set(alert_ids) - found)
    if missing:  # named up to ten: 45,000 unknown ids made a 300 KB error message
        shown = ", ".join(str(i) for i in missing[:10])
        more = f", ... ({len(missing)} in all)" if len(missing) > 10 else ""
        raise InvalidRecordError(f"alerts [{shown}{more}] are not alerts of call {call_id!r}")


def list_reviews(session: Session, call_id: str) -> list[QaReview]:
    stmt = (
        select(QaReview)
        .where(QaReview.call_id == call_id)
        .options(selectinload(QaReview.verdicts))
        .order_by(QaReview.created_at, QaReview.id)
    )
    return list(session.scalars(stmt))
