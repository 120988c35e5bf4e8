"""Stress readings are evidence (they feed the call level and the export): an edited, deleted or
planted ``stress_samples`` row makes ``db verify`` fail, on SQLite and PostgreSQL, and migration
0010 seals the samples a database already holds (and its downgrade leaves a chain that verifies).
Each transaction seals only its own new samples (one range of ids per call), never the whole call."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import delete, select, text
from sqlalchemy.exc import IntegrityError

from agent_monitor.cli import main
from agent_monitor.model.audio import Leg
from agent_monitor.model.stress import BaselineStatus, StressLevel, StressSample
from agent_monitor.storage import repo
from agent_monitor.storage.chain import CHAINED, verify_chain
from agent_monitor.storage.engine import Database
from agent_monitor.storage.evidence import verify_all
from agent_monitor.storage.migrate import alembic_config, head_revision, upgrade_database
from agent_monitor.storage.tables import StressSampleRow
from tests.agent_monitor.storage.evidence_support import behind_the_app, chain_problems

T0 = datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)
SAMPLE_SQL = (
    "INSERT INTO stress_samples (call_id, leg, t_s, score, level, baseline, raw, speech_s)"
    " VALUES ('{call}', 'debtor', {t}, 61.25, 'elevated', 'relative', 70.5, 0.8)"
)


def _batch(start: int, n: int = 10) -> list[StressSample]:
    return [
        StressSample(
            float(t), 30.0 + t * 1.5, StressLevel.ELEVATED if t > 5 else StressLevel.NONE,
            BaselineStatus.RELATIVE, None if t % 4 == 0 else 20.0 + t, 0.7, Leg.DEBTOR,
        )
        for t in range(start, start + n)
    ]  # fmt: skip


def _stressed_call(db: Database) -> None:
    """A call whose debtor stress is stored the way the pipeline stores it: ten samples a batch."""
    with db.session() as s:
        repo.start_call(s, "c1", "A1", source_protocol="ws_ingest", started_at=T0)
    for start in (0, 10, 20):
        with db.session() as s:
            repo.add_stress_samples(s, "c1", _batch(start))


def _stress_entries(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM evidence_log WHERE kind = 'stress'")).scalar_one())


def test_stored_stress_is_sealed_once_per_batch_and_verifies_clean(db: Database) -> None:
    _stressed_call(db)
    assert _stress_entries(db) == 3  # one per call and transaction, not one per sample
    assert chain_problems(db) == []
    with db.session() as s:
        assert {r.name: r.rows for r in verify_all(s)}["evidence_rows"] == 31  # the call, 30 samples
        assert len(repo.stress_timeline(s, "c1")) == 30


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("UPDATE stress_samples SET score = 0", "stress_samples: call c1 was changed"),
        ("UPDATE stress_samples SET level = 'none' WHERE id = 25", "stress_samples: call c1 was changed"),
        ("DELETE FROM stress_samples WHERE id = 12", "stress_samples: call c1 was changed"),
        ("DELETE FROM stress_samples", "stress_samples: call c1 is in the evidence log but its samples"),
        (SAMPLE_SQL.format(call="c1", t=30.0), "stress_samples: call c1 is not in the evidence log"),
    ],
)
def test_db_verify_catches_tampered_stress(
    db: Database,
    db_url: str,
    statement: str,
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AGENT_MONITOR_DATABASE_URL", db_url)
    monkeypatch.setenv("AGENT_MONITOR_DATA_DIR", str(tmp_path))
    _stressed_call(db)
    assert main(["db", "verify"]) == 0
    capsys.readouterr()
    behind_the_app(db, statement)
    assert main(["db", "verify"]) == 1
    out = capsys.readouterr().out
    assert expected in out, out


def _ranges(db: Database) -> list[tuple[int, int]]:
    with db.engine.connect() as conn:
        refs = conn.execute(text("SELECT ref FROM evidence_log WHERE kind = 'stress' ORDER BY id")).scalars()
        return [(int(a), int(b)) for a, _, b in (str(r).partition("-") for r in refs)]


def test_each_batch_seals_only_its_own_samples(db: Database) -> None:
    _stressed_call(db)
    with db.engine.connect() as conn:
        ids = [int(i) for i in conn.execute(text("SELECT id FROM stress_samples ORDER BY id")).scalars()]
    assert _ranges(db) == [(ids[0], ids[9]), (ids[10], ids[19]), (ids[20], ids[29])]


def test_a_later_batch_does_not_seal_earlier_tampering(db: Database) -> None:
    _stressed_call(db)
    behind_the_app(db, "UPDATE stress_samples SET score = 1 WHERE t_s = 3.0")
    behind_the_app(db, SAMPLE_SQL.format(call="c1", t=60.0))  # planted between two batches
    with db.session() as s:
        repo.add_stress_samples(s, "c1", _batch(30, 5))
    problems = chain_problems(db)
    assert len(problems) == 2, problems
    assert problems[0].startswith("stress_samples: call c1 is not in the evidence log"), problems
    assert problems[1].startswith("stress_samples: call c1 was changed after it was written"), problems


def test_stress_planted_for_a_call_without_any_is_caught(db: Database) -> None:
    with db.session() as s:
        repo.start_call(s, "c2", "A1", source_protocol="ws_ingest", started_at=T0)
    assert chain_problems(db) == []
    behind_the_app(db, SAMPLE_SQL.format(call="c2", t=4.0))
    [problem] = chain_problems(db)
    assert problem.startswith(
        "stress_samples: call c2 is not in the evidence log (written behind the application's back): sample "
    ), problem


def test_stress_changed_through_the_application_is_sealed_again(db: Database) -> None:
    _stressed_call(db)
    with db.session() as s:  # the unit of work: one sample deleted, one changed
        first, second = s.scalars(select(StressSampleRow).order_by(StressSampleRow.id).limit(2)).all()
        s.delete(first)
        second.score = 99.0
    assert _stress_entries(db) == 4
    with db.session() as s:  # a bulk statement whose calls are not named: every call is looked at
        s.execute(delete(StressSampleRow).where(StressSampleRow.t_s >= 25.0))
    assert _stress_entries(db) == 5
    assert chain_problems(db) == []


def _migrate(db: Database, how: str, revision: str) -> None:
    with db.engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        getattr(command, how)(cfg, revision)


def _chain_problems(db: Database) -> list[str]:
    """The problems of the chains a database at revision 0010 or before has (not 0011's)."""
    with db.session() as s:
        older = [name for name in CHAINED if name != "qa_review_seals"]
        return [p for name in older for p in verify_chain(s, name).problems]


def test_migration_0010_seals_stored_stress_and_downgrade_keeps_the_chain(empty_db_url: str) -> None:
    db = Database.open(empty_db_url)
    try:
        _migrate(db, "upgrade", "0009")
        with db.session() as s:  # the evidence log is in use: the call is sealed
            repo.start_call(s, "c1", "A1", source_protocol="ws_ingest", started_at=T0)
            repo.start_call(s, "c2", "A1", source_protocol="ws_ingest", started_at=T0)
        for call, t in (("c1", 1.0), ("c1", 2.0), ("c2", 1.0)):
            behind_the_app(db, SAMPLE_SQL.format(call=call, t=t))
        with db.session() as s:
            repo.end_call(s, "c2", ended_at=T0)  # an entry after the ones 0010 adds on top
        assert upgrade_database(empty_db_url) == head_revision()
        assert _stress_entries(db) == 2
        assert chain_problems(db) == []
        assert upgrade_database(empty_db_url) == head_revision()  # sealed once, not again
        assert _stress_entries(db) == 2
        with db.session() as s:  # the application renews the call's entry after the upgrade
            repo.add_stress_samples(s, "c2", _batch(5, 2))
        assert chain_problems(db) == []
        behind_the_app(db, "UPDATE stress_samples SET score = 0 WHERE call_id = 'c1'")
        [problem] = chain_problems(db)
        assert problem.startswith("stress_samples: call c1 was changed after it was written (samples "), (
            problem
        )
        assert problem.endswith("a sample edited, deleted or added; evidence digest mismatch)"), problem
        _migrate(db, "downgrade", "0009")
        assert _stress_entries(db) == 0
        assert _chain_problems(db) == []  # the entries after the stress ones were linked again
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO evidence_log (id, kind, ref, call_id, digest, at, prev_hash, row_hash)"
                    " VALUES (99, 'stress', 'c1', 'c1', 'x', '2025-01-01 00:00:00+00', 'x', 'x')"
                )
            )
        behind_the_app(db, "UPDATE stress_samples SET score = 50 WHERE call_id = 'c1'")
        assert upgrade_database(empty_db_url) == head_revision()  # and up again: sealed anew
        assert chain_problems(db) == []
    finally:
        db.dispose()


def test_stress_from_before_the_evidence_chain_is_sealed_at_upgrade(empty_db_url: str) -> None:
    upgrade_database(empty_db_url, "0001")
    db = Database.open(empty_db_url)
    try:
        behind_the_app(
            db, "INSERT INTO agents (id, name, created_at) VALUES ('A1', 'A1', '2025-01-01 00:00:00+00')"
        )
        behind_the_app(
            db,
            "INSERT INTO calls (id, agent_id, source_protocol, started_at, status, final_level,"
            " high_sensitivity, lang) VALUES ('old', 'A1', 'file', '2025-01-01 00:00:00+00', 'ended',"
            " 'orange', false, 'en')",
        )
        behind_the_app(db, SAMPLE_SQL.format(call="old", t=3.0))
        assert upgrade_database(empty_db_url) == head_revision()
        assert chain_problems(db) == []
        assert _stress_entries(db) == 1
        behind_the_app(db, "DELETE FROM stress_samples")
        [problem] = chain_problems(db)
        assert problem.startswith(
            "stress_samples: call old is in the evidence log but its samples are missing (deleted): "
        ), problem
    finally:
        db.dispose()
