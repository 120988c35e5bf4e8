"""Claiming the next call of the QA queue, on SQLite and PostgreSQL: of reviewers pressing "next"
at the same moment each gets a call of their own (the look-up hands them the same call; only one
conditional update takes it, the other goes on to the next call), and a claim whose reviewer saved
no draft lapses after ``qa.claim_expiry_s`` (it stayed theirs forever)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agent_monitor.model.levels import WarningLevel
from agent_monitor.storage import repo
from agent_monitor.storage.engine import Database
from agent_monitor.storage.enums import CallStatus, QaState
from agent_monitor.storage.repo import QueueQuery, qa_claim
from agent_monitor.storage.types import utcnow

T0 = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
EXPIRY_S = 30 * 60.0
#: call id, level (queued a minute apart, in this order)
CALLS = [
    ("c-red", WarningLevel.RED),
    ("c-orange", WarningLevel.ORANGE),
    ("c-yellow-1", WarningLevel.YELLOW),
    ("c-yellow-2", WarningLevel.YELLOW),
    ("c-yellow-3", WarningLevel.YELLOW),
]


def _fill(db: Database) -> None:
    with db.session() as s:
        repo.ensure_agent(s, "agent-1", name="Agent 1", team="North")
        for i, (call_id, level) in enumerate(CALLS):
            started = T0 + timedelta(minutes=i)
            repo.start_call(s, call_id, "agent-1", source_protocol="file", started_at=started)
            repo.end_call(s, call_id, ended_at=started + timedelta(seconds=30), status=CallStatus.ENDED)
            repo.enqueue_for_qa(s, call_id, level, "test", at=started)


def _claim(db: Database, reviewer: str, now: datetime | None = None, after: str | None = None) -> str | None:
    with db.session() as s:
        return repo.claim_next(s, QueueQuery(), reviewer, after, expiry_s=EXPIRY_S, now=now)


def _entry(db: Database, call_id: str) -> tuple[QaState, str | None]:
    with db.session() as s:
        item = repo.get_qa_item(s, call_id)
        return item.state, item.assigned_to


def test_a_claim_takes_the_call_out_of_everyone_elses_next(db: Database) -> None:
    _fill(db)
    assert _claim(db, "qa1") == "c-red"
    assert _entry(db, "c-red") == (QaState.IN_REVIEW, "qa1")
    assert _claim(db, "qa2") == "c-orange"  # the old "next" handed qa2 the call qa1 had opened
    assert _claim(db, "qa1") == "c-red"  # still qa1's to go on with
    assert _claim(db, "qa1", after="c-red") == "c-yellow-1"
    with db.session() as s:  # the claims are what "next" (claiming nothing) says too
        stale_before = utcnow() - timedelta(seconds=EXPIRY_S)
        assert repo.next_in_queue(s, QueueQuery(), "qa3", stale_before=stale_before) == "c-yellow-2"
    with db.session() as s:  # the filters hold
        q = QueueQuery(levels=[WarningLevel.ORANGE])
        assert repo.claim_next(s, q, "qa3", expiry_s=EXPIRY_S) is None


def test_a_call_claimed_between_the_look_up_and_the_update_is_skipped(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """qa1's look-up finds the red call; before qa1's update, qa2 claims it on another connection
    and commits. qa1's conditional update then takes nothing and qa1 is given the next call."""
    _fill(db)
    real, real_claim = qa_claim.next_entry, qa_claim.claim_next
    others: list[str | None] = []

    def racing(session: Any, q: QueueQuery, reviewer: str, *args: Any, **kw: Any) -> Any:
        found = real(session, q, reviewer, *args, **kw)
        if reviewer == "qa1" and not others:
            assert found is not None and found[1] == "c-red"
            with db.session() as other:  # a second session: its own connection and transaction
                others.append(real_claim(other, QueueQuery(), "qa2", expiry_s=EXPIRY_S))
        return found

    monkeypatch.setattr(qa_claim, "next_entry", racing)
    assert _claim(db, "qa1") == "c-orange"
    assert others == ["c-red"]
    assert _entry(db, "c-red") == (QaState.IN_REVIEW, "qa2")
    assert _entry(db, "c-orange") == (QaState.IN_REVIEW, "qa1")


def test_reviewers_claiming_at_the_same_moment_get_different_calls(db: Database) -> None:
    _fill(db)
    reviewers = [f"qa{n}" for n in range(4)]
    start = threading.Barrier(len(reviewers))
    got: dict[str, str | None] = {}
    failed: list[BaseException] = []

    def reviewer(name: str) -> None:
        try:
            start.wait(timeout=10)
            got[name] = _claim(db, name)
        except BaseException as exc:  # reported below, not lost in the thread
            failed.append(exc)

    threads = [threading.Thread(target=reviewer, args=(name,)) for name in reviewers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not failed, failed
    assert sorted(v for v in got.values() if v) == sorted(c for c, _ in CALLS[:4])
    for name, call_id in got.items():
        assert call_id is not None and _entry(db, call_id) == (QaState.IN_REVIEW, name)


def test_a_claim_without_a_draft_lapses_and_another_reviewer_may_take_it(db: Database) -> None:
    _fill(db)
    now = utcnow()
    assert _claim(db, "qa1", now=now - timedelta(hours=1)) == "c-red"  # and left it
    assert _claim(db, "qa3", now=now - timedelta(hours=1)) == "c-orange"
    with db.session() as s:  # qa3 started on theirs: a draft keeps it, however old the claim
        repo.save_review(s, "c-orange", "qa3", scorecard={"identification": 2})
    with db.session() as s:  # assigned by a lead, not opened since
        repo.assign_qa(s, "c-yellow-1", "qa4")
    assert _claim(db, "qa2", now=now + timedelta(seconds=EXPIRY_S - 60)) == "c-red"
    assert _entry(db, "c-red") == (QaState.IN_REVIEW, "qa2")
    later = now + timedelta(hours=2)  # even qa3's renewed claim is old by then
    assert _claim(db, "qa5", now=later) == "c-red"  # qa2 did not save anything either
    assert _claim(db, "qa6", now=later) == "c-yellow-1"  # not qa3's orange call: it has a draft
    assert _entry(db, "c-orange") == (QaState.IN_REVIEW, "qa3")
    assert _claim(db, "qa1", now=now) == "c-yellow-2"  # a fresh claim is nobody else's
    assert _claim(db, "qa2", now=now + timedelta(minutes=5), after="c-yellow-2") == "c-yellow-3"


def test_a_draft_renews_its_reviewers_claim(db: Database) -> None:
    _fill(db)
    now = utcnow()
    assert _claim(db, "qa1", now=now - timedelta(hours=1)) == "c-red"
    with db.session() as s:
        repo.save_review(s, "c-red", "qa1", scorecard={"identification": 2})
        claimed = repo.get_qa_item(s, "c-red").claimed_at
    assert claimed is not None and claimed >= now
