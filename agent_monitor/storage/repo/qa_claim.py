"""Claiming the next call of the QA queue for a reviewer, safely when several press "next" at once.

The entry found by :func:`~.qa_search.next_entry` is taken by one conditional ``UPDATE`` (still
open to the reviewer: pending, in review by nobody or by them, or a lapsed claim) whose row count
says whether it was: an entry someone else claimed between the look-up and the update is skipped
and the next one tried. PostgreSQL locks the row and checks the condition again once the other
transaction has committed; SQLite runs the ``UPDATE`` under its one write lock, on the committed
rows. So of two reviewers claiming at the same moment one gets the call, the other the next one.

A claim lapses after ``qa.claim_expiry_s`` when its reviewer saved no draft of the call (they
left it unopened): another reviewer's claim may then take the call. A call assigned by hand (by
another user, ``qa_queue.assigned_by``) never lapses; its assignee claiming it keeps it held.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from agent_monitor.storage.enums import QaState
from agent_monitor.storage.repo.qa_search import QueueQuery, assigned_by_on_claim, next_entry, open_to
from agent_monitor.storage.tables import QaQueueItem
from agent_monitor.storage.types import as_utc, utcnow


def claim_next(
    session: Session,
    q: QueueQuery,
    reviewer: str,
    after: str | None = None,
    *,
    expiry_s: float,
    now: datetime | None = None,
) -> str | None:
    """Claim for ``reviewer`` the call to review next among those ``q`` admits (other than
    ``after``): the highest level, longest waiting entry open to them, where a claim older than
    ``expiry_s`` seconds without a draft of its reviewer counts as open. The entry becomes in
    review by ``reviewer``, claimed ``now``. Returns its call id, or ``None`` when none is left."""
    now = as_utc(now) if now is not None else utcnow()
    stale_before = now - timedelta(seconds=expiry_s)
    tried: list[int] = []
    while found := next_entry(session, q, reviewer, after, stale_before=stale_before, skip=tried):
        item_id, call_id = found
        if take_entry(session, item_id, reviewer, now=now, stale_before=stale_before):
            return call_id
        tried.append(item_id)  # someone else's since the look-up: the next one
    return None


def take_entry(
    session: Session, item_id: int, reviewer: str, *, now: datetime, stale_before: datetime
) -> bool:
    """Give the entry ``item_id`` to ``reviewer`` if it is still open to them (one conditional
    ``UPDATE``); whether it was. A hand assignment to ``reviewer`` stays (renewed), a lapsed
    claim of someone else becomes ``reviewer``'s claim."""
    result = cast(
        "CursorResult[Any]",
        session.execute(
            update(QaQueueItem)
            .where(QaQueueItem.id == item_id, open_to(reviewer, stale_before))
            .values(
                state=QaState.IN_REVIEW,
                assigned_to=reviewer,
                assigned_by=assigned_by_on_claim(reviewer),
                claimed_at=now,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        return False
    loaded = session.identity_map.get(identity_key(QaQueueItem, item_id))
    if loaded is not None:  # an entry this session read before: read it again
        session.expire(loaded)
    return True
