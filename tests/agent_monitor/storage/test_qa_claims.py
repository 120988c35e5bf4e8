"""Claiming the next call of the QA queue, on SQLite and PostgreSQL: of reviewers pressing "next"
at the same moment each gets a call of their own (the look-up hands them the same call; only one
conditional update takes it, the other goes on to the next call), and a claim whose reviewer saved
no draft lapses after ``qa.claim_expiry_s`` (it stayed theirs forever), while a call assigned by
hand by another user (a lead) never lapses (``qa_queue.assigned_by``; it lapsed too)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agent_monitor.errors import ConflictError, InvalidTransitionError
from agent_monitor.model.levels import WarningLevel
from agent_monitor.storage import repo
from agent_monitor.storage.engine import Database
from agent_monitor.storage.enums import CallStatus, QaState
from agent_monitor.storage.repo import QueueQuery, qa_claim
from agent_monitor.storage.types import utcnow
from tests.agent_monitor.storage.repo_support import FULL_SCORECARD

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
    with db.session() as s:  # taken by qa4 themself on the review page ("Take"), not opened since
        repo.assign_qa(s, "c-yellow-1", "qa4", by="qa4")
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


def _held(db: Database, call_id: str) -> tuple[QaState, str | None, str | None]:
    with db.session() as s:
        item = repo.get_qa_item(s, call_id)
        return item.state, item.assigned_to, item.assigned_by


def test_a_call_assigned_by_hand_never_lapses(db: Database) -> None:
    """A lead's assignment stays its reviewer's however long they leave it unopened (it lapsed like
    a claim of "next"): nobody else's Next is handed it, its reviewer's Next renews it and keeps it
    held, and it goes to someone else only when the lead assigns it again."""
    _fill(db)
    with db.session() as s:
        repo.assign_qa(s, "c-red", "qa1", by="lead")
    assert _held(db, "c-red") == (QaState.IN_REVIEW, "qa1", "lead")
    later = utcnow() + timedelta(days=3)
    assert _claim(db, "qa2", now=later) == "c-orange"  # not the red call, however old its claim
    with db.session() as s:
        assert repo.next_in_queue(s, QueueQuery(), "qa3", stale_before=later) == "c-yellow-1"
    assert _claim(db, "qa1", now=later) == "c-red"  # its reviewer's Next: still held, renewed
    with db.session() as s:
        item = repo.get_qa_item(s, "c-red")
        assert (item.assigned_to, item.assigned_by, item.claimed_at) == ("qa1", "lead", later)
    with db.session() as s:  # never anyone else's
        red = QueueQuery(levels=[WarningLevel.RED])
        assert repo.claim_next(s, red, "qa3", expiry_s=EXPIRY_S, now=later + timedelta(days=3)) is None
    with db.session() as s:  # the lead gives it to someone else: held for them
        repo.assign_qa(s, "c-red", "qa3", by="lead", take_over="qa1")
    assert _held(db, "c-red") == (QaState.IN_REVIEW, "qa3", "lead")
    assert _claim(db, "qa1", now=later + timedelta(days=3)) == "c-orange"  # qa2's lapsed claim


def test_a_claim_keeps_a_hand_assignment_only_of_its_own_reviewer(db: Database) -> None:
    """Who holds a call after each way of taking it: a reviewer taking a call for themself ("Take",
    a lapsed claim by Next, reopening their finished review) holds a claim that lapses, unless the
    call was assigned to them by hand already; another reviewer's draft leaves the call held."""
    _fill(db)
    with db.session() as s:
        repo.assign_qa(s, "c-red", "qa1", by="lead")
        repo.assign_qa(s, "c-red", "qa1", by="qa1")  # qa1 presses Take on it too: still held
        repo.save_review(s, "c-red", "qa2", scorecard={"identification": 1})  # stays qa1's
        repo.save_review(s, "c-red", "qa1", scorecard={"identification": 2})  # renews, held
    assert _held(db, "c-red") == (QaState.IN_REVIEW, "qa1", "lead")
    with db.session() as s:  # qa4 takes it over on the review page: their claim, which lapses
        repo.assign_qa(s, "c-red", "qa4", by="qa4", take_over="qa1")
    assert _held(db, "c-red") == (QaState.IN_REVIEW, "qa4", None)
    assert _claim(db, "qa3", now=utcnow() + timedelta(hours=1)) == "c-red"  # qa4 saved no draft
    assert _held(db, "c-red") == (QaState.IN_REVIEW, "qa3", None)
    with db.session() as s:  # a hand assignment holds again
        repo.assign_qa(s, "c-red", "qa5", by="lead")
    assert _claim(db, "qa3", now=utcnow() + timedelta(hours=1)) == "c-orange"
    assert _held(db, "c-red") == (QaState.IN_REVIEW, "qa5", "lead")


def test_a_reopened_review_is_held_only_by_the_reviewer_it_was_assigned_to(db: Database) -> None:
    _fill(db)
    with db.session() as s:
        repo.assign_qa(s, "c-red", "qa1", by="lead")
        repo.assign_qa(s, "c-orange", "qa1", by="lead")
        repo.save_review(s, "c-red", "qa1", scorecard=FULL_SCORECARD, done=True)
        repo.save_review(s, "c-orange", "qa2", scorecard=FULL_SCORECARD, done=True)  # qa2 reviewed qa1's call
    assert _held(db, "c-red") == (QaState.DONE, "qa1", "lead")
    with db.session() as s:  # both finished reviews saved as drafts again
        repo.save_review(s, "c-red", "qa1", scorecard=FULL_SCORECARD, notes="again")
        repo.save_review(s, "c-orange", "qa2", scorecard=FULL_SCORECARD, notes="again")
    assert _held(db, "c-red") == (QaState.IN_REVIEW, "qa1", "lead")
    assert _held(db, "c-orange") == (QaState.IN_REVIEW, "qa2", None)


def test_a_hand_assignment_between_the_look_up_and_the_update_wins(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """qa2's look-up finds qa1's lapsed claim of the red call; before qa2's update, a lead assigns
    the call to qa1 on another connection and commits: qa2's conditional update takes nothing
    (however old qa2 takes qa1's new claim to be) and qa2 is given the next call."""
    _fill(db)
    now = utcnow()
    assert _claim(db, "qa1", now=now - timedelta(hours=1)) == "c-red"
    real = qa_claim.next_entry
    assigned: list[str] = []

    def racing(session: Any, q: QueueQuery, reviewer: str, *args: Any, **kw: Any) -> Any:
        found = real(session, q, reviewer, *args, **kw)
        if not assigned:
            assert found is not None and found[1] == "c-red"
            with db.session() as other:
                assigned.append(repo.assign_qa(other, "c-red", "qa1", by="lead").call_id)
        return found

    monkeypatch.setattr(qa_claim, "next_entry", racing)
    assert _claim(db, "qa2", now=now + timedelta(hours=2)) == "c-orange"  # the new claim would be old
    assert _held(db, "c-red") == (QaState.IN_REVIEW, "qa1", "lead")


def test_a_held_call_is_assigned_again_only_by_naming_its_holder(db: Database) -> None:
    """A call a lead gave to qa1 goes to anyone else only when the request names qa1 as the holder
    it takes the call from (``take_over``: it went silently); a refused request changes nothing.
    Its holder taking it, and calls held by a claim, nobody, or finished, need no name."""
    _fill(db)
    with db.session() as s:
        repo.assign_qa(s, "c-red", "qa1", by="lead")
        repo.assign_qa(s, "c-orange", "qa2", by="qa2")  # a claim: taken over without a name
    for reviewer, by, take_over in (("qa4", "qa4", None), ("qa3", "lead2", None), ("qa3", "lead", "qa2")):
        refused = r"held for 'qa1' \(assigned by 'lead'\).*take_over: 'qa1'"
        with pytest.raises(ConflictError, match=refused), db.session() as s:
            repo.assign_qa(s, "c-red", reviewer, by=by, take_over=take_over)
        assert _held(db, "c-red") == (QaState.IN_REVIEW, "qa1", "lead")
    with db.session() as s:
        repo.assign_qa(s, "c-red", "qa1", by="qa1")  # its holder's Take: still held
        repo.assign_qa(s, "c-orange", "qa4", by="qa4")
    assert _held(db, "c-red") == (QaState.IN_REVIEW, "qa1", "lead")
    assert _held(db, "c-orange") == (QaState.IN_REVIEW, "qa4", None)
    with db.session() as s:
        repo.assign_qa(s, "c-red", "qa3", by="lead2", take_over="qa1")
    assert _held(db, "c-red") == (QaState.IN_REVIEW, "qa3", "lead2")
    with db.session() as s:  # finished: no longer held, assigned again (to re-review) without a name
        repo.save_review(s, "c-red", "qa3", scorecard=FULL_SCORECARD, done=True)
        repo.assign_qa(s, "c-red", "qa5", by="lead")
    assert _held(db, "c-red") == (QaState.DONE, "qa5", "lead")


def test_of_two_take_overs_at_once_the_second_is_refused(db: Database) -> None:
    """Two leads take qa1's call over at the same moment, both naming qa1: the second's look-up
    still sees qa1 while the first's change is uncommitted, but its conditional update (checked
    on the locked row once the first commits) takes nothing and is refused; the call is qa3's."""
    _fill(db)
    with db.session() as s:
        repo.assign_qa(s, "c-red", "qa1", by="lead")
    outcome: list[str] = []

    def second() -> None:
        try:
            with db.session() as s:
                assert repo.get_qa_item(s, "c-red").assigned_to == "qa1"  # the first is not committed
                repo.assign_qa(s, "c-red", "qa2", by="lead2", take_over="qa1")
            outcome.append("assigned")
        except ConflictError:
            outcome.append("refused")

    with db.session() as s:
        repo.assign_qa(s, "c-red", "qa3", by="lead", take_over="qa1")  # written, not committed
        thread = threading.Thread(target=second)
        thread.start()
        thread.join(1.0)  # the second waits on the first's lock
        assert thread.is_alive() and not outcome
    thread.join(30)
    assert outcome == ["refused"]
    assert _held(db, "c-red") == (QaState.IN_REVIEW, "qa3", "lead")


def test_a_call_is_put_back_in_the_queue(db: Database) -> None:
    """Released ("—" in "Assigned to"), a call is pending and nobody's, and the next Next hands it
    out (a call could only be assigned to someone else): its holder's own, a claim of anyone's,
    or, naming its holder, a call a lead gave to someone else; not a finished call."""
    _fill(db)
    with db.session() as s:
        repo.assign_qa(s, "c-red", "qa1", by="lead")
        repo.assign_qa(s, "c-orange", "qa2", by="qa2")
    refused = r"held for 'qa1' \(assigned by 'lead'\).*take_over: 'qa1'"
    for by, take_over in (("qa3", None), ("lead", None), ("qa3", "qa2")):
        with pytest.raises(ConflictError, match=refused), db.session() as s:
            repo.release_qa(s, "c-red", by=by, take_over=take_over)
        assert _held(db, "c-red") == (QaState.IN_REVIEW, "qa1", "lead")
    with db.session() as s:
        assert repo.release_qa(s, "c-red", by="lead", take_over="qa1").state is QaState.PENDING
        repo.release_qa(s, "c-orange", by="qa3")  # another reviewer's claim
        repo.release_qa(s, "c-orange", by="qa3")  # already pending: stays so
    assert _held(db, "c-red") == _held(db, "c-orange") == (QaState.PENDING, None, None)
    with db.session() as s:
        assert repo.get_qa_item(s, "c-red").claimed_at is None
    assert _claim(db, "qa3") == "c-red"
    with db.session() as s:  # their own call, back
        repo.release_qa(s, "c-red", by="qa3")
    assert _claim(db, "qa4") == "c-red"
    with db.session() as s:
        repo.save_review(s, "c-red", "qa4", scorecard=FULL_SCORECARD, done=True)
    with (
        pytest.raises(InvalidTransitionError, match="'c-red' is finished: it stays with 'qa4'"),
        db.session() as s,
    ):
        repo.release_qa(s, "c-red", by="qa4")
    assert _held(db, "c-red") == (QaState.DONE, "qa4", None)
