"""A resumed call whose opening fails on the database after it wrote the call row live (here: the
read of the call's history, failing once) is opened again: the failed opening ends the row
``aborted`` and, that write done, the next opening resumes the call, live. A real call manager
(the real Vosk model, SQLite); the failure is raised at the history's statement itself (a real
database cannot be made to fail at one statement), as SQLAlchemy raises a lost connection."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from agent_monitor.model.session import CallInfo
from agent_monitor.pipeline import CallManager
from agent_monitor.storage import CallStatus, Database, repo


class FailsOnce:
    """Fails the first read of the call's rule hits (the resumed call's history)."""

    def __init__(self) -> None:
        self.failed = 0

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self.failed == 0 and statement.lstrip().startswith("SELECT") and "FROM rule_hits" in statement:
            self.failed += 1
            raise OperationalError(statement, None, sqlite3.OperationalError("disk I/O error"))


@pytest.mark.asyncio
async def test_a_resumed_call_whose_opening_failed_after_its_row_is_opened_again(
    manager: CallManager, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agent_monitor.pipeline.manager")
    first = await manager.start_call(CallInfo("again-1", "A-7"))
    await first.stop("client disconnected (code 1006)", status="aborted")  # to be resumed
    fails = FailsOnce()
    event.listen(database.engine, "before_cursor_execute", fails)
    try:
        session = await manager.start_call(CallInfo("again-1", "A-7"))
    finally:
        event.remove(database.engine, "before_cursor_execute", fails)
    assert fails.failed == 1 and session.resumed
    said = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("call again-1: the database is not available, opening again") for m in said), said
    with database.session() as s:
        assert repo.get_call(s, "again-1").status is CallStatus.LIVE  # the failed opening's abort came first
    await session.stop("stop")
    with database.session() as s:
        assert repo.get_call(s, "again-1").status is CallStatus.ENDED
