"""The outbox writes a call's rows in batches (one transaction for what gathered within
``batch_linger_s``), on SQLite and PostgreSQL: the rows, the evidence seal and the hash chains come
out as when every write had its own transaction; an urgent write (an alert) does not wait out the
gathering; a write refused for good in a batch costs only itself."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event

from agent_monitor.errors import NotFoundError
from agent_monitor.model.levels import WarningLevel
from agent_monitor.pipeline import records
from agent_monitor.pipeline.outbox import Outbox
from agent_monitor.pipeline.records import Write
from agent_monitor.pipeline.store import CallStore
from agent_monitor.settings import OutboxSettings
from agent_monitor.storage import chain
from agent_monitor.storage.engine import Database
from agent_monitor.storage.evidence import verify_all
from agent_monitor.storage.tables import AuditEntry
from agent_monitor.storage.types import utcnow
from tests.agent_monitor.storage.test_outbox import (
    REASON,
    T0,
    _check_stored,
    _start_call,
    _transcript,
    _writes,
)


@contextmanager
def counting_commits(db: Database) -> Iterator[list[int]]:
    """A list whose length is the number of transactions committed on ``db`` meanwhile."""
    commits: list[int] = []

    def on_commit(conn: object) -> None:
        commits.append(1)

    event.listen(db.engine, "commit", on_commit)
    try:
        yield commits
    finally:
        event.remove(db.engine, "commit", on_commit)


@pytest.mark.asyncio
async def test_a_calls_writes_are_gathered_into_one_transaction(db: Database, tmp_path: Path) -> None:
    _start_call(db)
    outbox = Outbox(db, OutboxSettings(batch_linger_s=1.0, batch_max=64), tmp_path / "outbox")
    store = CallStore(outbox, "c1")
    store.start()
    writes = [w for w in _writes() if w.op != "raise_alert"]  # no urgent write among them
    try:
        with counting_commits(db) as commits:
            futures = [store.submit(w) for w in writes]
            await store.close()
        assert len(commits) == 1  # twelve writes, one transaction (one-by-one: eleven)
        assert all(f.done() and f.exception() is None for f in futures)
        assert store.writes == len(writes) and store.errors == 0
    finally:
        await outbox.close()
    # the alert alone afterwards, so the stored call is the whole short call of test_outbox
    alert = [w for w in _writes() if w.op == "raise_alert"]
    with db.session() as s:
        records.run_write(s, alert[0])
    _check_stored(db)  # rows, hash chains and the evidence seal verify


@pytest.mark.asyncio
async def test_an_urgent_write_is_written_at_once_with_what_queued_before_it(
    db: Database, tmp_path: Path
) -> None:
    _start_call(db)
    outbox = Outbox(db, OutboxSettings(batch_linger_s=5.0), tmp_path / "outbox")
    store = CallStore(outbox, "c1")
    store.start()
    try:
        with counting_commits(db) as commits:
            started = time.monotonic()
            before = store.submit(records.save_utterance("c1", _transcript(0, "we will have you arrested")))
            alert = store.submit(
                records.raise_alert("c1", "alert-key-1", WarningLevel.RED, [REASON], 0.75, T0, handoff=False),
                urgent=True,
            )
            alert_id = await alert
            waited = time.monotonic() - started
            assert before.done() and isinstance(alert_id, int)
            assert waited < 2.5, f"the alert waited {waited:.2f} s for a 5-s gathering"
            assert len(commits) == 1
            await store.close()
    finally:
        await outbox.close()


@pytest.mark.asyncio
async def test_a_write_refused_for_good_in_a_batch_costs_only_itself(db: Database, tmp_path: Path) -> None:
    _start_call(db)
    outbox = Outbox(db, OutboxSettings(batch_linger_s=1.0), tmp_path / "outbox")
    store = CallStore(outbox, "c1")
    store.start()
    writes = _writes()
    bad = Write("no_such_operation", {"call_id": "c1"})
    try:
        futures = [store.submit(w) for w in writes[:5]]
        refused = store.submit(bad)
        futures += [store.submit(w) for w in writes[5:]]
        await store.close()
    finally:
        await outbox.close()
    assert isinstance(refused.exception(), NotFoundError)
    assert all(f.done() and f.exception() is None for f in futures)
    assert store.errors == 1 and store.writes == len(writes)
    _check_stored(db)


def test_appending_entries_in_one_go_chains_them_like_one_by_one(db: Database) -> None:
    def entry(i: int) -> AuditEntry:
        return AuditEntry(at=utcnow(), actor="admin", action=f"test.{i}", object_type="call", detail={"i": i})

    with db.session() as s:
        chain.append(s, entry(0))
        chain.append_all(s, [entry(1), entry(2), entry(3)])
        chain.append_all(s, [])
        chain.append(s, entry(4))
    with db.session() as s:
        rows = s.query(AuditEntry).order_by(AuditEntry.id).all()
        assert [r.id for r in rows][-5:] == [rows[-5].id + i for i in range(5)]
        assert all(b.prev_hash == a.row_hash for a, b in itertools.pairwise(rows))
        assert [p for r in verify_all(s) for p in r.problems] == []
