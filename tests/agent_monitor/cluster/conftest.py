"""Fixtures of the cluster tests: a real ``redis-server`` per test (:mod:`tests.redis_support`)
and, for the registry's tests, a SQLite database at the newest schema (the hand-off sweep's tests
bring their own, on both databases)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_monitor.storage import Database, upgrade_database
from tests.redis_support import RedisServer


@pytest.fixture()
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path / "redis") as server:
        yield server


@pytest.fixture()
def db(tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'floor.db'}"
    upgrade_database(url)
    database = Database.open(url)
    yield database
    database.dispose()
