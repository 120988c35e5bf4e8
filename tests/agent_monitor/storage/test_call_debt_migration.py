"""Migration 0014 adds ``call_debts`` (a call's debt and consent) and the evidence kind
``call_debt``: the calls a database already holds keep their rows and digests and still verify,
have no debt row (their debt is the debtor id's, not consented), and calls stored after it seal
their debt; downgrading drops the table and the ``call_debt`` entries and leaves the evidence chain
verifying. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from agent_monitor.cli import main
from agent_monitor.model.audio import Leg
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.transcript import Transcript
from agent_monitor.storage import repo
from agent_monitor.storage.chain import verify_chain
from agent_monitor.storage.engine import Database
from agent_monitor.storage.migrate import alembic_config, head_revision, upgrade_database
from tests.agent_monitor.storage.evidence_support import chain_problems

T0 = datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)
LOG_SQL = "SELECT id, kind, ref, digest, row_hash FROM evidence_log ORDER BY id"
INSERT_LOG = "INSERT INTO evidence_log (id, kind, ref, call_id, digest, at, prev_hash, row_hash) VALUES "


def _calls_at_0013(db: Database) -> None:
    """Two calls of one debtor as revision 0013 stored them (no debt, no consent), sealed."""
    for n, call_id in enumerate(("old-1", "old-2")):
        with db.session() as s:
            at = T0 - timedelta(days=n + 1)
            repo.start_call(s, call_id, "A1", source_protocol="ws_ingest", started_at=at, debtor_id="d1")
            repo.save_utterance(s, call_id, Transcript(Leg.AGENT, 0, 0.5, 1.0, "hello", final=True))
            repo.raise_call_level(s, call_id, WarningLevel.ORANGE)


def _migrate(db: Database, how: str, revision: str) -> None:
    with db.engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        getattr(command, how)(cfg, revision)


def _log(db: Database) -> list[tuple[object, ...]]:
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(LOG_SQL))]


def test_migration_0014_keeps_old_calls_verifying_and_seals_new_debts(
    empty_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AGENT_MONITOR_DATABASE_URL", empty_db_url)
    monkeypatch.setenv("AGENT_MONITOR_DATA_DIR", str(tmp_path))
    upgrade_database(empty_db_url, "0013")
    db = Database.open(empty_db_url)
    try:
        _calls_at_0013(db)
        before = _log(db)
        assert upgrade_database(empty_db_url) == head_revision()
        assert _log(db) == before  # the old calls' digests and the chain are untouched
        assert chain_problems(db) == []
        assert main(["db", "verify"]) == 0, capsys.readouterr().out
        with db.session() as s:
            repo.start_call(
                s, "new", "A1", source_protocol="ws_ingest", started_at=T0, debtor_id="d1", debt_id="L-1"
            )
            history = repo.debtor_calls_since(s, "d1", T0 - timedelta(days=7), besides="new")
            assert [(r.call.id, r.debt_id, r.consented) for r in history] == [
                ("old-2", "d1", False),
                ("old-1", "d1", False),
            ]
        assert [row[1] for row in _log(db)[len(before) :]] == ["call", "call_debt"]
        assert chain_problems(db) == []
        capsys.readouterr()
        assert main(["db", "verify"]) == 0
        # two old calls with an utterance each, the new call and its debt
        assert "evidence_rows: 6 rows: ok" in capsys.readouterr().out
    finally:
        db.dispose()


def test_downgrade_from_0014_drops_the_debts_and_keeps_the_chain_verifying(empty_db_url: str) -> None:
    upgrade_database(empty_db_url, "0013")
    db = Database.open(empty_db_url)
    try:
        _calls_at_0013(db)
        assert upgrade_database(empty_db_url) == head_revision()
        with db.session() as s:
            repo.start_call(s, "new", "A1", source_protocol="ws_ingest", started_at=T0, consented=True)
        with db.session() as s:  # an entry after the debt's: renumbered and rehashed by the downgrade
            repo.save_utterance(s, "new", Transcript(Leg.AGENT, 0, 0.5, 1.0, "hi", final=True))
        _migrate(db, "downgrade", "0013")
        assert "call_debts" not in inspect(db.engine).get_table_names()
        kinds = [row[1] for row in _log(db)]
        assert "call_debt" not in kinds and kinds[-2:] == ["call", "utterance"]
        with db.session() as s:
            assert verify_chain(s, "evidence_log").problems == ()
        n = len(kinds)
        values = f"({n + 1}, 'call_debt', '1', 'new', '{'0' * 64}', '2025-01-01', '', '{'1' * 64}')"
        with pytest.raises(IntegrityError), db.engine.begin() as conn:  # the older constraint is back
            conn.execute(text(INSERT_LOG + values))
        assert upgrade_database(empty_db_url) == head_revision()  # and up again
        assert "call_debts" in inspect(db.engine).get_table_names()
        assert chain_problems(db) == []
    finally:
        db.dispose()
