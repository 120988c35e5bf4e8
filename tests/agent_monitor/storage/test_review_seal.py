"""Finished QA reviews are sealed (their own hash chain, ``qa_review_seals``): a finished review's
score, verdict, notes, reviewer or times edited in the database, one reopened, finished or deleted
behind the application's back makes ``db verify`` fail, on SQLite and PostgreSQL. A review changed
after finishing (reopened, finished again) appends a version and keeps the earlier ones, each
checked against its digest; drafts are not sealed."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from agent_monitor.cli import main
from agent_monitor.errors import ConflictError
from agent_monitor.model.levels import WarningLevel
from agent_monitor.storage import repo
from agent_monitor.storage.engine import Database
from agent_monitor.storage.evidence import verify_all
from agent_monitor.storage.review_seal import sealed_reviews
from agent_monitor.storage.tables import QaReview, QaReviewSeal
from tests.agent_monitor.storage.evidence_support import behind_the_app, chain_problems

T0 = datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)
NOTES = "客户情绪激动; agent stayed calm"


def _call(db: Database, call_id: str = "c1") -> int:
    """A call with one alert, queued for QA; the alert's id."""
    with db.session() as s:
        repo.start_call(s, call_id, "A1", source_protocol="ws_ingest", started_at=T0)
        alert = repo.raise_alert(s, call_id, WarningLevel.ORANGE, [{"rule": "abuse"}], raised_at_s=3.0)
        repo.enqueue_for_qa(s, call_id, WarningLevel.ORANGE, "orange alert", at=T0)
        return alert.id


def _card(db: Database, **values: Any) -> dict[str, Any]:
    """Every item of the current form scored (its max unless given)."""
    with db.session() as s:
        form = repo.to_form(repo.current_form(s))
    return {item.key: values.get(item.key, item.max) for item in form.items}


def _save(db: Database, alert_id: int, *, done: bool, call_id: str = "c1", **kw: Any) -> None:
    with db.session() as s:
        repo.save_review(
            s,
            call_id,
            kw.pop("reviewer", "qa1"),
            scorecard=kw.pop("scorecard", None) or _card(db, disclosure="na"),
            notes=kw.pop("notes", NOTES),
            verdicts=kw.pop("verdicts", {alert_id: "confirmed"}),
            done=done,
            **kw,
        )


def _seals(db: Database) -> list[QaReviewSeal]:
    with db.session() as s:
        return list(s.scalars(select(QaReviewSeal).order_by(QaReviewSeal.id)))


def _verify(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("AGENT_MONITOR_DATABASE_URL", db_url)
    monkeypatch.setenv("AGENT_MONITOR_DATA_DIR", str(tmp_path))
    return main(["db", "verify"])


QA1 = "WHERE reviewer = 'qa1'"
FINISHED_LATER = "UPDATE qa_reviews SET finished_at = created_at WHERE reviewer = 'qa2'"


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("UPDATE qa_reviews SET score = 42 WHERE reviewer = 'qa1'", "was changed after it was finished"),
        ("UPDATE qa_verdicts SET verdict = 'false_alarm'", "was changed after it was finished"),
        ("DELETE FROM qa_verdicts", "was changed after it was finished"),
        ("UPDATE qa_reviews SET notes = 'fine' WHERE reviewer = 'qa1'", "was changed after it was finished"),
        (
            "UPDATE qa_reviews SET reviewer = 'qa9' WHERE reviewer = 'qa1'",
            "was changed after it was finished",
        ),
        (
            "UPDATE qa_reviews SET scorecard = '{}' WHERE reviewer = 'qa1'",
            "was changed after it was finished",
        ),
        (
            "UPDATE qa_reviews SET finished_at = '2020-01-01 00:00:00' WHERE reviewer = 'qa1'",
            "was changed after it was finished",
        ),
        ("UPDATE qa_reviews SET finished_at = NULL", "reopened behind the application's back"),
        (FINISHED_LATER, "is finished but its finishing was never sealed (finished behind the application's"),
    ],
)
def test_db_verify_catches_a_tampered_finished_review(
    db: Database,
    db_url: str,
    statement: str,
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    alert_id = _call(db)
    _save(db, alert_id, done=True)
    _save(db, alert_id, done=False, reviewer="qa2", scorecard={"respect": 1})  # a draft: not sealed
    assert _verify(db_url, tmp_path, monkeypatch) == 0
    assert "qa_reviews: 2 rows: ok" in capsys.readouterr().out
    behind_the_app(db, statement)
    assert _verify(db_url, tmp_path, monkeypatch) == 1
    out = capsys.readouterr().out
    assert "qa_reviews: 2 rows: 1 PROBLEM(S)" in out and expected in out, out
    assert "reviewer 'qa2'" in out if statement == FINISHED_LATER else "(call 'c1', reviewer 'qa" in out


def test_a_deleted_finished_review_is_named(db: Database) -> None:
    alert_id = _call(db)
    _save(db, alert_id, done=True)
    behind_the_app(db, "DELETE FROM qa_verdicts")
    behind_the_app(db, "DELETE FROM qa_reviews")
    [problem] = chain_problems(db)
    assert problem == "qa_reviews: review 1 (call 'c1', reviewer 'qa1') is sealed but missing (deleted)"


def test_finishing_seals_once_and_drafts_are_not_sealed(db: Database) -> None:
    alert_id = _call(db)
    _save(db, alert_id, done=False)
    _save(db, alert_id, done=False, notes="still looking")
    assert _seals(db) == []
    _save(db, alert_id, done=True)
    [seal] = _seals(db)
    assert seal.event == "finished" and seal.call_id == "c1" and seal.reviewer == "qa1"
    assert seal.digest == hashlib.sha256(seal.content.encode()).hexdigest()
    fields = json.loads(seal.content)["fields"]
    assert fields["notes"] == NOTES and fields["verdicts"] == [[alert_id, "confirmed", None]]
    assert fields["scorecard"]["disclosure"] == "na" and fields["finished_at"].startswith("20")
    with db.session() as s:
        reports = {r.name: r for r in verify_all(s)}
    assert reports["qa_review_seals"].rows == 1 and reports["qa_reviews"].rows == 1
    assert all(r.ok for r in reports.values()), reports


def test_a_review_changed_after_finishing_keeps_every_sealed_version(db: Database) -> None:
    alert_id = _call(db)
    _save(db, alert_id, done=True)
    _save(db, alert_id, done=False, notes="reconsidering")  # reopens it: sealed as reopened
    _save(db, alert_id, done=False, notes="reconsidering more")  # a draft again: nothing new
    _save(db, alert_id, done=True, verdicts={alert_id: "false_alarm"}, notes="false alarm after all")
    seals = _seals(db)
    assert [s.event for s in seals] == ["finished", "reopened", "finished"]
    first, reopened, last = (json.loads(s.content)["fields"] for s in seals)
    assert first["verdicts"] == [[alert_id, "confirmed", None]] and first["notes"] == NOTES
    assert reopened["finished_at"] is None and reopened["notes"] == "reconsidering"
    assert last["verdicts"] == [[alert_id, "false_alarm", None]]
    assert chain_problems(db) == []
    # the earlier version rewritten with a consistent digest still breaks the chain
    forged = seals[0].content.replace("confirmed", "false_alarm")
    digest = hashlib.sha256(forged.encode()).hexdigest()
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE qa_review_seals SET content = :c, digest = :d WHERE id = 1"),
            {"c": forged, "d": digest},
        )
    assert chain_problems(db) == ["qa_review_seals: row 1 was changed after it was written (hash mismatch)"]
    behind_the_app(db, "UPDATE qa_review_seals SET digest = '" + "0" * 64 + "' WHERE id = 2")
    assert "qa_review_seals: row 2 holds content that does not match its digest" in chain_problems(db)


def test_a_review_finished_through_the_orm_directly_is_sealed_and_a_rollback_seals_nothing(
    db: Database,
) -> None:
    alert_id = _call(db)
    _save(db, alert_id, done=False)
    with pytest.raises(RuntimeError), db.session() as s:
        s.scalars(select(QaReview)).one().finished_at = T0
        s.flush()
        raise RuntimeError("rolled back")
    assert _seals(db) == [] and chain_problems(db) == []
    with db.session() as s:
        review = s.scalars(select(QaReview)).one()
        review.finished_at, review.score = T0, 50.0
    assert [s.event for s in _seals(db)] == ["finished"]
    assert chain_problems(db) == []


def test_sealed_reviews_for_the_export(db: Database) -> None:
    alert_id = _call(db)
    _save(db, alert_id, done=True)
    _save(db, alert_id, done=False, reviewer="qa2")
    with db.session() as s:
        finished, draft = sealed_reviews(s, "c1")
    assert finished["state"] == "finished" and finished["sealed_versions"] == 1
    assert finished["sealed_digest"] == _seals(db)[0].digest
    assert finished["qa_review_seals"]["id"] == 1 and len(finished["qa_review_seals"]["row_hash"]) == 64
    assert draft == {"reviewer": "qa2", "sealed_versions": 0, "state": "draft", "note": draft["note"]}
    behind_the_app(db, "UPDATE qa_verdicts SET verdict = 'false_alarm'")
    with db.session() as s, pytest.raises(ConflictError, match="qa1's QA review does not match its seal"):
        sealed_reviews(s, "c1")
    behind_the_app(db, "DELETE FROM qa_verdicts")
    behind_the_app(db, "DELETE FROM qa_reviews WHERE reviewer = 'qa1'")
    with db.session() as s, pytest.raises(ConflictError, match="a sealed QA review is missing"):
        sealed_reviews(s, "c1")


def test_concurrent_reviewers_keep_one_unbroken_seal_chain(db: Database) -> None:
    alerts = {f"c{n}": _call(db, f"c{n}") for n in range(4)}
    card = _card(db, disclosure="na")  # the default form is seeded before the reviewers start
    errors: list[BaseException] = []

    def reviewer(n: int) -> None:
        try:
            for i in range(5):
                call_id = f"c{(n + i) % 4}"
                done = i % 2 == 0
                _save(db, alerts[call_id], done=done, call_id=call_id, reviewer=f"qa{n}", scorecard=card)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reviewer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(_seals(db)) == 4 * 3  # three finishings each (the drafts are of other calls)
    assert chain_problems(db) == []
