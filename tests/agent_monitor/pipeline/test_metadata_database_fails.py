"""A call whose call-metadata rules cannot read the debtor's stored calls (the database fails at
that read, or is slow) goes on, live: its start does not wait for the read, the read is tried
again until the database answers (the hits then found while the call goes on) or the call ends
(said in the log). Before session 50 the read was awaited inside ``start_call`` and tried once: a
database that failed for a moment at the call's start lost its calling-hours and frequency
findings for good, and a slow one held the call's start (and its audio) as long.

A real call manager (the real Vosk model, SQLite); the database's failure is raised at the
history's statement itself (a real database cannot be made to fail at one statement), as
SQLAlchemy raises a lost connection, and its slowness is a wait at that statement."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from agent_monitor.model.events import RuleHitEvent
from agent_monitor.pipeline import CallManager
from agent_monitor.pipeline.call_metadata import FIRST_RETRY_S
from agent_monitor.storage import CallStatus, Database, repo
from tests.agent_monitor.pipeline.conftest import EventsOf, Subscribe
from tests.agent_monitor.pipeline.test_metadata_rules import NOW, call_info, rules_hit, store_call

NOT_YET = "call meta-8: call-metadata rules (calling hours, frequency) not checked yet: the database"
GAVE_UP = "call meta-8: call-metadata rules (calling hours, frequency) not checked: the database was"


def _is_history(statement: str) -> bool:
    return statement.lstrip().upper().startswith("SELECT") and "JOIN call_debts" in statement


class HistoryFails:
    """Fails every read of the debtor's stored calls (the statements joining ``call_debts``) while
    :attr:`on` (switched off, not removed, while the call runs: removing a listener while another
    thread walks the listeners fails that thread)."""

    def __init__(self) -> None:
        self.failed: list[str] = []
        self.on = True

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self.on and _is_history(statement):
            self.failed.append(statement.split("FROM", 1)[0][:60])
            raise OperationalError(statement, None, sqlite3.OperationalError("disk I/O error"))


class HistoryWaits:
    """Holds every read of the debtor's stored calls until :attr:`go` is set."""

    def __init__(self) -> None:
        self.go = threading.Event()
        self.reached = threading.Event()

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if _is_history(statement):
            self.reached.set()
            self.go.wait(30.0)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


async def _until(done: Any, within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while not done():
        assert time.monotonic() < deadline, "not within the time allowed"
        await asyncio.sleep(0.05)


def _seven_earlier_calls(database: Database) -> None:
    for i in range(7):  # seven earlier calls over the last five days: an eighth is one too many
        store_call(database, f"meta-{i}", "d-meta", NOW - timedelta(days=5 - i % 5, hours=i))


@pytest.mark.asyncio
@pytest.mark.parametrize("tz", ["America/New_York", None])  # the zone given, or read from history
async def test_metadata_rules_are_checked_once_the_database_answers_during_the_call(
    manager: CallManager,
    database: Database,
    subscribe: Subscribe,
    events_of: EventsOf,
    caplog: pytest.LogCaptureFixture,
    tz: str | None,
) -> None:
    _seven_earlier_calls(database)
    fails = HistoryFails()
    event.listen(database.engine, "before_cursor_execute", fails)
    sub = subscribe(lambda e: isinstance(e, RuleHitEvent))
    found: list[str] = []
    try:
        session = await manager.start_call(call_info("meta-8", "d-meta", tz=tz))
        await _until(lambda: fails.failed and any(m.startswith(NOT_YET) for m in _warnings(caplog)), 10.0)
        fails.on = False  # the database answers again
        assert manager.get("meta-8") is session and not session.closed  # live: it goes on
        assert "disk I/O error" in next(m for m in _warnings(caplog) if m.startswith(NOT_YET))

        def hit_found() -> bool:
            found.extend(rules_hit(events_of(sub)))
            return bool(found)

        await _until(hit_found, 10 * FIRST_RETRY_S)
        assert found == ["US-FREQ-1"] and not session.closed  # found while the call goes on
        assert any("call-metadata rules checked on try" in m for m in _warnings(caplog))
        await session.stop("stop")
    finally:
        event.remove(database.engine, "before_cursor_execute", fails)
    with database.session() as s:
        assert repo.get_call(s, "meta-8").status is CallStatus.ENDED
        stored = [h.rule_id for h in repo.list_rule_hits(s, "meta-8") if h.rule_id.startswith("US-")]
    assert stored == ["US-FREQ-1"]


@pytest.mark.asyncio
async def test_a_call_that_ends_before_the_database_answers_goes_without_its_metadata_rules(
    manager: CallManager,
    database: Database,
    subscribe: Subscribe,
    events_of: EventsOf,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _seven_earlier_calls(database)
    fails = HistoryFails()
    event.listen(database.engine, "before_cursor_execute", fails)
    sub = subscribe(lambda e: isinstance(e, RuleHitEvent))
    try:
        session = await manager.start_call(call_info("meta-8", "d-meta"))
        await _until(lambda: len(fails.failed) >= 2, 10.0)  # tried again while live
        await session.stop("stop")
    finally:
        event.remove(database.engine, "before_cursor_execute", fails)
    assert rules_hit(events_of(sub)) == []
    gave_up = [m for m in _warnings(caplog) if m.startswith(GAVE_UP)]
    assert len(gave_up) == 1 and "not available before the call ended" in gave_up[0], _warnings(caplog)
    assert "disk I/O error" in gave_up[0]
    with database.session() as s:
        assert repo.get_call(s, "meta-8").status is CallStatus.ENDED
    session = await manager.start_call(call_info("meta-9", "d-meta"))  # the history read
    await session.stop("stop")
    assert rules_hit(events_of(sub)) == ["US-FREQ-1"]  # as the failed read would have found


@pytest.mark.asyncio
async def test_a_call_starts_without_waiting_for_its_metadata_rules_read(
    manager: CallManager,
    database: Database,
    subscribe: Subscribe,
    events_of: EventsOf,
) -> None:
    _seven_earlier_calls(database)
    waits = HistoryWaits()
    event.listen(database.engine, "before_cursor_execute", waits)
    sub = subscribe(lambda e: isinstance(e, RuleHitEvent))
    try:
        try:
            session = await asyncio.wait_for(manager.start_call(call_info("meta-8", "d-meta")), 10.0)
            await _until(waits.reached.is_set, 10.0)
            assert manager.get("meta-8") is session and rules_hit(events_of(sub)) == []
        finally:
            waits.go.set()
        await session.stop("stop")  # the end waits for the check: its hit is the call's
    finally:  # not before: the held read's thread still walks the listeners
        event.remove(database.engine, "before_cursor_execute", waits)
    assert rules_hit(events_of(sub)) == ["US-FREQ-1"]
    with database.session() as s:
        stored = [h.rule_id for h in repo.list_rule_hits(s, "meta-8") if h.rule_id.startswith("US-")]
    assert stored == ["US-FREQ-1"]
