"""Migration 0011 seals the reviews a database already holds finished (event ``upgrade``, content
computed as the application computes it), leaves drafts unsealed, and ``db verify`` says which
reviews are sealed only as they were found; its downgrade leaves the older chains verifying.
On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select, text

from agent_monitor.cli import main
from agent_monitor.model.levels import WarningLevel
from agent_monitor.storage import repo
from agent_monitor.storage.chain import CHAINED, verify_chain
from agent_monitor.storage.engine import Database
from agent_monitor.storage.migrate import alembic_config, head_revision, upgrade_database
from agent_monitor.storage.tables import QaReviewSeal
from tests.agent_monitor.storage.evidence_support import chain_problems

T0 = datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)
REVIEW_SQL = (
    "INSERT INTO qa_reviews (id, call_id, reviewer, scorecard, comments, form_id, score, finished_at,"
    " notes, created_at, updated_at) VALUES (:id, 'c1', :reviewer, :card, :comments, NULL, :score,"
    " :finished, :notes, '2025-05-06 08:00:00.250000', '2025-05-06 08:30:00')"
)
VERDICT_SQL = "INSERT INTO qa_verdicts (review_id, alert_id, verdict, note) VALUES (1, :a, 'confirmed', NULL)"
CARD = {"identification": 2, "disclosure": "na", "respect": 0, "accuracy": None, "resolution": 1}


def _migrate(db: Database, how: str, revision: str) -> None:
    with db.engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        getattr(command, how)(cfg, revision)


def _reviews_at_0010(db: Database) -> None:
    """A call with an alert, one finished review with a verdict (stored as 0010's application
    stored it: 0010 sealed no review) and one draft."""
    with db.session() as s:
        repo.start_call(s, "c1", "A1", source_protocol="ws_ingest", started_at=T0)
        alert = repo.raise_alert(s, "c1", WarningLevel.RED, [{"rule": "abuse"}], raised_at_s=2.0)
    finished = {"id": 1, "reviewer": "qa1", "score": 200 / 3, "finished": "2025-05-06 08:30:00"}
    draft = {"id": 2, "reviewer": "qa2", "score": None, "finished": None}
    with db.engine.begin() as conn:
        for review in (finished, draft):
            notes = '客户说 "I\'ll pay"; agent ok'
            comments = json.dumps({"respect": "raised voice at 0:42"})
            values = {**review, "card": json.dumps(CARD), "comments": comments, "notes": notes}
            conn.execute(text(REVIEW_SQL), values)
        conn.execute(text(VERDICT_SQL), {"a": alert.id})


def _events(db: Database) -> list[tuple[int, str]]:
    with db.session() as s:
        return [(r.review_id, r.event) for r in s.scalars(select(QaReviewSeal).order_by(QaReviewSeal.id))]


def _verify_cli(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("AGENT_MONITOR_DATABASE_URL", url)
    monkeypatch.setenv("AGENT_MONITOR_DATA_DIR", str(tmp_path))
    return main(["db", "verify"])


def test_migration_0011_seals_finished_reviews_as_found_and_says_so(
    empty_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = Database.open(empty_db_url)
    try:
        _migrate(db, "upgrade", "0010")
        _reviews_at_0010(db)
        assert upgrade_database(empty_db_url) == head_revision()
        assert _events(db) == [(1, "upgrade")]  # the draft is not sealed
        assert chain_problems(db) == []  # the migration's content is the application's, digit for digit
        assert _verify_cli(empty_db_url, tmp_path, monkeypatch) == 0
        out = capsys.readouterr().out
        assert "qa_reviews: 2 rows: ok" in out and "qa_review_seals: 1 rows" in out, out
        assert "qa_reviews: 1 review(s) finished before reviews were sealed, sealed as found" in out, out
        assert "  review 1 (call 'c1', reviewer 'qa1')" in out, out
        assert upgrade_database(empty_db_url) == head_revision()  # sealed once, not again
        assert _events(db) == [(1, "upgrade")]
        _sql_update(db, "UPDATE qa_verdicts SET verdict = 'false_alarm'")
        [problem] = chain_problems(db)
        assert problem == (
            "qa_reviews: review 1 (call 'c1', reviewer 'qa1') was changed after it was finished"
            " (seal digest mismatch)"
        )
    finally:
        db.dispose()


def test_a_review_sealed_at_upgrade_and_finished_again_is_no_longer_listed(
    empty_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = Database.open(empty_db_url)
    try:
        _migrate(db, "upgrade", "0010")
        _reviews_at_0010(db)
        assert upgrade_database(empty_db_url) == head_revision()
        with db.session() as s:
            form = repo.to_form(repo.current_form(s))
            card = {item.key: item.max for item in form.items}
            repo.save_review(s, "c1", "qa1", scorecard=card, notes="re-checked", done=True)
        assert _events(db) == [(1, "upgrade"), (1, "finished")]
        assert _verify_cli(empty_db_url, tmp_path, monkeypatch) == 0
        assert "finished before reviews were sealed" not in capsys.readouterr().out
    finally:
        db.dispose()


def _sql_update(db: Database, statement: str) -> None:
    with db.engine.begin() as conn:
        conn.execute(text(statement))


def test_downgrade_from_0011_keeps_the_older_chains_and_upgrading_seals_again(empty_db_url: str) -> None:
    db = Database.open(empty_db_url)
    try:
        _migrate(db, "upgrade", "0010")
        _reviews_at_0010(db)
        assert upgrade_database(empty_db_url) == head_revision()
        _migrate(db, "downgrade", "0010")
        with db.engine.connect() as conn:
            heads = {str(n) for n in conn.execute(text("SELECT name FROM chain_heads")).scalars()}
        assert heads == set(CHAINED) - {"qa_review_seals"}
        with db.session() as s:
            assert [p for name in heads for p in verify_chain(s, name).problems] == []
        _sql_update(db, "UPDATE qa_reviews SET notes = 'edited while no seal existed'")
        assert upgrade_database(empty_db_url) == head_revision()
        assert _events(db) == [(1, "upgrade")]
        assert chain_problems(db) == []  # sealed as found, which db verify says (see above)
    finally:
        db.dispose()
