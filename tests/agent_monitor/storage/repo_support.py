"""A call row to hang the repository tests' records on (one start time for them all), and a QA
scorecard that finishes a review on the default form."""

from __future__ import annotations

from datetime import UTC, datetime

from agent_monitor.model.scorecard import ItemValue
from agent_monitor.storage import repo
from agent_monitor.storage.engine import Database

T0 = datetime(2025, 3, 4, 9, 30, 0, 123456, tzinfo=UTC)
#: every item of the default form scored, none of them 0 (so no comment is needed): a review with it
#: can be finished (``done=True``); ``save_review`` copies it, so no test changes it for another
FULL_SCORECARD: dict[str, ItemValue] = {
    "identification": 2,
    "disclosure": "na",
    "respect": 2,
    "accuracy": 1,
    "resolution": 2,
}


def start_call(db: Database, call_id: str = "c1", agent: str = "A1", **kw: object) -> None:
    with db.session() as s:
        repo.start_call(s, call_id, agent, source_protocol="ws_ingest", started_at=T0, **kw)  # type: ignore[arg-type]
