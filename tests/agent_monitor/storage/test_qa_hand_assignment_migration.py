"""Migration 0013 adds ``qa_queue.assigned_by``: the entries a database already holds get none
(whether an assignment was a lead's was not recorded), so their claims lapse as before, and a
lead's assignment made after it holds; downgrading drops the column and keeps the assignments.
On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import inspect, text

from agent_monitor.storage import repo
from agent_monitor.storage.engine import Database
from agent_monitor.storage.migrate import alembic_config, upgrade_database
from agent_monitor.storage.repo import QueueQuery
from agent_monitor.storage.types import utcnow

T0 = datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)
#: an entry as revision 0012 stores it (plain SQL: the ORM's queue has the column of 0013)
QUEUE_SQL = (
    "INSERT INTO qa_queue (call_id, level, reason, queued_at, state, assigned_to, claimed_at, updated_at)"
    " VALUES (:call, 'red', 'test', :queued, :state, :who, :claimed, '2025-05-06 08:30:00')"
)


def _fill_at_0012(db: Database) -> None:
    with db.session() as s:
        for call_id in ("c1", "c2", "c3"):
            repo.start_call(s, call_id, "A1", source_protocol="ws_ingest", started_at=T0)
    rows = [("c1", "in_review", "qa1", T0), ("c2", "in_review", "qa2", T0), ("c3", "pending", None, None)]
    with db.engine.begin() as conn:
        for n, (call_id, state, who, claimed) in enumerate(rows):
            queued = T0 + timedelta(minutes=n)
            params = {"call": call_id, "state": state, "who": who, "claimed": claimed, "queued": queued}
            conn.execute(text(QUEUE_SQL), params)


def _downgrade(db: Database, revision: str) -> None:
    with db.engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def test_migration_0013_leaves_existing_assignments_lapsing_and_downgrades(empty_db_url: str) -> None:
    upgrade_database(empty_db_url, "0012")
    db = Database.open(empty_db_url)
    try:
        _fill_at_0012(db)
        upgrade_database(empty_db_url)
        with db.session() as s:
            items = [repo.get_qa_item(s, c) for c in ("c1", "c2", "c3")]
            assert [(i.assigned_to, i.assigned_by) for i in items] == [
                ("qa1", None),
                ("qa2", None),
                (None, None),
            ]
            repo.assign_qa(s, "c2", "qa2", by="lead")  # a lead's assignment after the upgrade holds
        with db.session() as s:  # qa1's old claim lapsed (no draft); qa2's assigned call did not
            now = utcnow() + timedelta(days=1)
            assert repo.claim_next(s, QueueQuery(), "qa3", expiry_s=1800.0, now=now) == "c1"
            assert repo.claim_next(s, QueueQuery(), "qa3", "c1", expiry_s=1800.0, now=now) == "c3"
        _downgrade(db, "0012")
        columns = {c["name"] for c in inspect(db.engine).get_columns("qa_queue")}
        assert "assigned_by" not in columns and {"assigned_to", "claimed_at"} <= columns
        with db.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT call_id, state, assigned_to FROM qa_queue ORDER BY call_id")
            ).all()
        assert [tuple(r) for r in rows] == [
            ("c1", "in_review", "qa3"),
            ("c2", "in_review", "qa2"),
            ("c3", "in_review", "qa3"),
        ]
        upgrade_database(empty_db_url)  # and up again
        assert "assigned_by" in {c["name"] for c in inspect(db.engine).get_columns("qa_queue")}
    finally:
        db.dispose()
