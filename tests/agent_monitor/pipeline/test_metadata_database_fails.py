"""A call whose call-metadata rules cannot read the debtor's stored calls (the database fails at
that read) goes on, live, with the rules not checked and said in the log; before, the read's
error left ``start_call`` after ``call_started`` was published, and the ingest connection ended
the call ``aborted`` with a server error. A real call manager (the real Vosk model, SQLite); the
database's failure is raised at the history's statement itself (a real database cannot be made
to fail at one statement), as SQLAlchemy raises a lost connection."""

from __future__ import annotations

import logging
import sqlite3
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from agent_monitor.model.events import RuleHitEvent
from agent_monitor.pipeline import CallManager
from agent_monitor.storage import CallStatus, Database, repo
from tests.agent_monitor.pipeline.conftest import EventsOf, Subscribe
from tests.agent_monitor.pipeline.test_metadata_rules import NOW, call_info, rules_hit, store_call


class HistoryFails:
    """Fails every read of the debtor's stored calls (the statements joining ``call_debts``)."""

    def __init__(self) -> None:
        self.failed: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "JOIN call_debts" in statement:
            self.failed.append(statement.split("FROM", 1)[0][:60])
            raise OperationalError(statement, None, sqlite3.OperationalError("disk I/O error"))


@pytest.mark.asyncio
@pytest.mark.parametrize("tz", ["America/New_York", None])  # the zone given, or read from history
async def test_a_call_goes_on_when_its_metadata_rules_cannot_read_the_database(
    manager: CallManager,
    database: Database,
    subscribe: Subscribe,
    events_of: EventsOf,
    caplog: pytest.LogCaptureFixture,
    tz: str | None,
) -> None:
    for i in range(7):  # seven earlier calls over the last five days: an eighth is one too many
        store_call(database, f"meta-{i}", "d-meta", NOW - timedelta(days=5 - i % 5, hours=i))
    fails = HistoryFails()
    event.listen(database.engine, "before_cursor_execute", fails)
    sub = subscribe(lambda e: isinstance(e, RuleHitEvent))
    try:
        session = await manager.start_call(call_info("meta-8", "d-meta", tz=tz))
    finally:
        event.remove(database.engine, "before_cursor_execute", fails)
    assert fails.failed, "the history was not read"
    assert manager.get("meta-8") is session and not session.closed  # live: it goes on
    await session.stop("stop")
    assert rules_hit(events_of(sub)) == []
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    expected = "call meta-8: call-metadata rules (calling hours, frequency) not checked: the database"
    assert any(m.startswith(expected) and "disk I/O error" in m for m in said), said
    with database.session() as s:
        assert repo.get_call(s, "meta-8").status is CallStatus.ENDED
    session = await manager.start_call(call_info("meta-9", "d-meta", tz=tz))  # the history read
    await session.stop("stop")
    assert rules_hit(events_of(sub)) == ["US-FREQ-1"]  # as the failed read would have found
