"""A call row to hang the repository tests' records on (one start time for them all)."""

from __future__ import annotations

from datetime import UTC, datetime

from agent_monitor.storage import repo
from agent_monitor.storage.engine import Database

T0 = datetime(2025, 3, 4, 9, 30, 0, 123456, tzinfo=UTC)


def start_call(db: Database, call_id: str = "c1", agent: str = "A1", **kw: object) -> None:
    with db.session() as s:
        repo.start_call(s, call_id, agent, source_protocol="ws_ingest", started_at=T0, **kw)  # type: ignore[arg-type]
