"""One reviewer's saves of a review at the same moment (a second tab, a double click on Save): both
are kept, the later one last, on SQLite and PostgreSQL. The second used to fail with a 500: it
inserted the review (or the same verdict) a second time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from agent_monitor.model.levels import WarningLevel
from agent_monitor.storage import repo
from agent_monitor.storage.engine import Database
from agent_monitor.storage.enums import CallStatus, Verdict

T0 = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
SAVES = 6


def _call_with_alert(db: Database) -> int:
    with db.session() as s:
        repo.ensure_agent(s, "agent-1", name="Agent 1", team="North")
        repo.start_call(s, "c-1", "agent-1", source_protocol="file", started_at=T0)
        alert = repo.raise_alert(s, "c-1", WarningLevel.RED, [{"kind": "rule", "rule": "r"}], raised_at_s=3.0)
        repo.end_call(s, "c-1", ended_at=T0 + timedelta(seconds=30), status=CallStatus.ENDED)
        repo.enqueue_for_qa(s, "c-1", WarningLevel.RED, "test", at=T0)
        return int(alert.id)


def _at_once(jobs: list[Callable[[], None]]) -> list[BaseException]:
    start = threading.Barrier(len(jobs))
    failed: list[BaseException] = []

    def run(job: Callable[[], None]) -> None:
        try:
            start.wait(timeout=10)
            job()
        except BaseException as exc:  # reported by the test, not lost in the thread
            failed.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return failed


def _save(db: Database, notes: str, verdicts: dict[int, Verdict] | None = None) -> Callable[[], None]:
    def job() -> None:
        with db.session() as s:
            repo.save_review(s, "c-1", "qa1", scorecard={}, notes=notes, verdicts=verdicts)

    return job


def test_first_saves_of_one_review_at_once_make_one_review(db: Database) -> None:
    alert_id = _call_with_alert(db)
    failed = _at_once([_save(db, f"save {n}", {alert_id: Verdict.CONFIRMED}) for n in range(SAVES)])
    assert not failed, failed
    with db.session() as s:
        (review,) = repo.list_reviews(s, "c-1")
        assert review.reviewer == "qa1" and review.notes.startswith("save ")
        assert [(v.alert_id, v.verdict) for v in review.verdicts] == [(alert_id, Verdict.CONFIRMED)]


def test_the_same_verdict_saved_at_once_is_kept_once(db: Database) -> None:
    alert_id = _call_with_alert(db)
    _save(db, "draft")()
    verdicts = [Verdict.CONFIRMED, Verdict.FALSE_ALARM] * (SAVES // 2)
    failed = _at_once([_save(db, f"save {v}", {alert_id: v}) for v in verdicts])
    assert not failed, failed
    with db.session() as s:
        (review,) = repo.list_reviews(s, "c-1")
        assert len(review.verdicts) == 1 and review.notes == f"save {review.verdicts[0].verdict}"
