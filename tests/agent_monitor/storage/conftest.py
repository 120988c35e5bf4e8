"""Real databases for the storage tests: SQLite always, PostgreSQL too when
``AGENT_MONITOR_TEST_POSTGRES_URL`` is set (required when ``CI=true``: then a missing URL fails).

The URL names a server role that may create databases, e.g.
``postgresql+psycopg://agent_monitor:agent_monitor@localhost:5432/postgres``. One database
``am_test_<random>`` is created per test session (migrated once, emptied before each test) and
dropped at the end; tests that need an unmigrated database get a database of their own.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from agent_monitor.storage.chain import CHAINED, GENESIS_HASH
from agent_monitor.storage.engine import Database, database_url
from agent_monitor.storage.migrate import upgrade_database
from tests.pg_support import drop_database

PG_ENV = "AGENT_MONITOR_TEST_POSTGRES_URL"


def _backends() -> list[str]:
    backends = ["sqlite"]
    if os.environ.get(PG_ENV) or os.environ.get("CI", "").lower() == "true":
        backends.append("postgresql")
    return backends


BACKENDS = _backends()


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.fail(f"CI=true but {PG_ENV} is not set: the storage tests must also run on PostgreSQL")
    return url


class PostgresDatabases:
    """Creates and drops throw-away databases on the test server."""

    def __init__(self, server_url: str) -> None:
        self.server_url = database_url(server_url)
        self.admin = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def create(self) -> str:
        name = f"am_test_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.server_url.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        drop_database(self.admin, url)
        self.created.remove(str(make_url(url).database))

    def close(self) -> None:
        for name in list(self.created):
            drop_database(
                self.admin, self.server_url.set(database=name).render_as_string(hide_password=False)
            )
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres(postgres_server_url: str) -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases(postgres_server_url)
    yield databases
    databases.close()


@pytest.fixture(scope="session")
def pg_session_db(postgres: PostgresDatabases) -> str:
    url = postgres.create()
    upgrade_database(url)
    return url


def _empty_tables(url: str) -> None:
    """Remove every row (but the schema revision) and reset the chain heads."""
    from agent_monitor.storage.base import Base

    db = Database.open(url)
    try:
        with db.engine.begin() as conn:
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            conn.execute(
                text("INSERT INTO chain_heads (name, seq, head_hash) VALUES (:n, 0, :h)"),
                [{"n": n, "h": GENESIS_HASH} for n in CHAINED],
            )
    finally:
        db.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of a migrated database with no rows."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'agent-monitor.db'}"
        upgrade_database(url)
        return url
    url = str(request.getfixturevalue("pg_session_db"))
    _empty_tables(url)
    return url


@pytest.fixture()
def db(db_url: str) -> Iterator[Database]:
    database = Database.open(db_url)
    yield database
    database.dispose()


@pytest.fixture(params=BACKENDS)
def empty_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a brand-new database without any tables."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'empty.db'}"
        return
    postgres: PostgresDatabases = request.getfixturevalue("postgres")
    url = postgres.create()
    yield url
    postgres.drop(url)
