"""One process's database connections come from ``database.*`` (``pool_size``, ``max_overflow``,
``pool_timeout_s``), on SQLite and PostgreSQL; on PostgreSQL they carry the process's name, and
the room the server has for them is read from the server itself."""

from __future__ import annotations

import os
import time
from contextlib import ExitStack

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from agent_monitor.settings import DatabaseSettings, Settings
from agent_monitor.settings.database import default_executor_threads
from agent_monitor.storage import Database
from agent_monitor.storage.connections import ServerConnections, room_message, server_connections

POOL = DatabaseSettings(pool_size=3, max_overflow=2, pool_timeout_s=0.4)


def test_a_process_opens_at_most_its_pool_then_waits_pool_timeout(settings: Settings, db_url: str) -> None:
    name = "agent-monitor pool-test"
    db = Database.open(settings.model_copy(update={"database_url": db_url, "database": POOL}), name=name)
    try:
        with ExitStack() as held:
            conns: list[Connection] = [held.enter_context(db.engine.connect()) for _ in range(5)]
            started = time.monotonic()
            with pytest.raises(PoolTimeoutError, match="size 3 overflow 2"):
                db.engine.connect()
            assert 0.35 < time.monotonic() - started < 3.0
            if db.backend == "postgresql":
                mine = conns[0].execute(text("SELECT current_setting('application_name')")).scalar_one()
                assert mine == name
                query = text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :n")
                assert conns[0].execute(query, {"n": name}).scalar_one() == 5
        with db.engine.connect() as conn:  # returned: there is one again
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        db.dispose()


def test_a_database_in_memory_takes_the_settings_without_a_pool(settings: Settings) -> None:
    db = Database.open(settings.model_copy(update={"database_url": "sqlite://", "database": POOL}))
    try:
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        db.dispose()


def test_the_room_for_the_pool_is_read_from_the_server(db: Database) -> None:
    server = server_connections(db.engine)
    if db.backend == "sqlite":
        assert server is None
        return
    assert server is not None
    with db.engine.connect() as conn:
        limit = int(conn.execute(text("SHOW max_connections")).scalar_one())
        reserved = int(conn.execute(text("SHOW superuser_reserved_connections")).scalar_one())
    assert (server.max_connections, server.reserved) == (limit, reserved)  # PostgreSQL 15 here
    assert 1 <= server.open < limit


def test_by_default_the_pool_has_a_connection_for_every_thread_that_may_ask(settings: Settings) -> None:
    threads = default_executor_threads() + settings.live.outbox.writer_threads  # to_thread, writes
    assert threads == min(32, (os.cpu_count() or 1) + 4) + 4
    assert DatabaseSettings().max_connections(settings.live.outbox.writer_threads) == max(5, threads)
    assert DatabaseSettings(max_overflow=0).max_connections(4) == 5  # as set
    db = Database.open(settings)
    try:
        assert (db.engine.pool.size(), db.engine.pool._max_overflow) == (5, max(0, threads - 5))  # type: ignore[attr-defined]
    finally:
        db.dispose()


def test_the_start_says_whether_the_whole_pool_fits() -> None:
    server = ServerConnections(max_connections=100, reserved=3, open=40)  # 58 free, the reader's back
    enough, message = room_message(5, 10, server, "agent-monitor n1")
    assert enough, message
    assert message == (
        "this process opens at most 15 database connections (database.pool_size 5 + overflow 10), "
        "named 'agent-monitor n1' in pg_stat_activity; PostgreSQL allows 100 (3 reserved), 39 "
        "others open now: room for 3 such process(es), this one among them"
    )
    enough, message = room_message(50, 20, server, "n1")
    assert not enough
    assert "at most 70 database connections" in message and "only 58 free" in message, message
    assert "raise max_connections or lower database.pool_size / database.max_overflow" in message
