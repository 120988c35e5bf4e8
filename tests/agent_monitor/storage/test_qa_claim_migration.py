"""Migration 0012 adds ``qa_queue.claimed_at``: an entry assigned before it counts as claimed at its
last update (so a claim left unopened lapses ``qa.claim_expiry_s`` after it), others stay
unclaimed; downgrading drops the column and keeps the assignments. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import inspect, text

from agent_monitor.storage import repo
from agent_monitor.storage.engine import Database
from agent_monitor.storage.migrate import alembic_config, upgrade_database

T0 = datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)
QUEUE_SQL = (
    "INSERT INTO qa_queue (call_id, level, reason, queued_at, state, assigned_to, updated_at)"
    " VALUES (:call, 'red', 'test', '2025-05-06 07:10:00', :state, :who, '2025-05-06 08:30:00')"
)


def _entries(db: Database) -> dict[str, tuple[str, str | None, datetime | None, datetime]]:
    with db.session() as s:
        items = [repo.get_qa_item(s, c) for c in ("c1", "c2")]
        return {i.call_id: (str(i.state), i.assigned_to, i.claimed_at, i.updated_at) for i in items}


def test_migration_0012_takes_assigned_entries_as_claimed_at_their_last_update(empty_db_url: str) -> None:
    upgrade_database(empty_db_url, "0011")
    db = Database.open(empty_db_url)
    try:
        with db.session() as s:
            for call_id in ("c1", "c2"):
                repo.start_call(s, call_id, "A1", source_protocol="ws_ingest", started_at=T0)
        with db.engine.begin() as conn:
            conn.execute(text(QUEUE_SQL), {"call": "c1", "state": "in_review", "who": "qa1"})
            conn.execute(text(QUEUE_SQL), {"call": "c2", "state": "pending", "who": None})
        upgrade_database(empty_db_url)
        entries = _entries(db)
        state, who, claimed, updated = entries["c1"]
        assert (state, who) == ("in_review", "qa1") and claimed == updated
        assert entries["c2"][:3] == ("pending", None, None)
        with db.engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0011")
        columns = {c["name"] for c in inspect(db.engine).get_columns("qa_queue")}
        assert "claimed_at" not in columns and "assigned_to" in columns
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT call_id, assigned_to FROM qa_queue ORDER BY call_id")).all()
        assert [tuple(r) for r in rows] == [("c1", "qa1"), ("c2", None)]
    finally:
        db.dispose()
