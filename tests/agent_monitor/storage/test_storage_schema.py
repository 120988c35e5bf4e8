"""The migrations produce exactly the ORM schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text

from agent_monitor.errors import DatabaseUnavailableError
from agent_monitor.storage.base import Base
from agent_monitor.storage.chain import CHAINED, GENESIS_HASH
from agent_monitor.storage.engine import Database, make_engine
from agent_monitor.storage.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    require_current_schema,
    schema_differences,
    upgrade_database,
)
from agent_monitor.storage.search import FTS_NAMES


def test_migration_creates_exactly_the_orm_schema(empty_db_url: str) -> None:
    assert current_revision(empty_db_url) is None
    with pytest.raises(DatabaseUnavailableError, match="db upgrade"):
        require_current_schema(empty_db_url)

    assert upgrade_database(empty_db_url) == head_revision()
    assert schema_differences(empty_db_url) == []
    require_current_schema(empty_db_url)

    engine = make_engine(empty_db_url)
    try:
        insp = inspect(engine)
        # besides the ORM tables only SQLite's full-text index (FTS5 tables) exists
        extra = FTS_NAMES if engine.dialect.name == "sqlite" else set()
        expected = set(Base.metadata.tables) | {"alembic_version"}
        assert set(insp.get_table_names()) - expected <= extra
        assert expected <= set(insp.get_table_names())
        # autogenerate does not compare check constraints: compare their names here
        for table in Base.metadata.sorted_tables:
            orm_checks = {c.name for c in table.constraints if c.__class__.__name__ == "CheckConstraint"}
            db_checks = {c["name"] for c in insp.get_check_constraints(table.name)}
            assert db_checks == orm_checks, table.name
        with engine.connect() as conn:
            heads = conn.execute(text("SELECT name, seq, head_hash FROM chain_heads")).all()
        assert sorted(heads) == sorted((name, 0, GENESIS_HASH) for name in CHAINED)
    finally:
        engine.dispose()

    # upgrading an up-to-date database changes nothing
    assert upgrade_database(empty_db_url) == head_revision()
    assert schema_differences(empty_db_url) == []

    # the downgrade script removes everything it created, and upgrading again restores it
    engine = make_engine(empty_db_url)
    try:
        with engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "base")
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    finally:
        engine.dispose()
    assert current_revision(empty_db_url) is None
    upgrade_database(empty_db_url)
    assert schema_differences(empty_db_url) == []


def test_schema_comparison_notices_drift(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP INDEX ix_calls_status"))
            conn.execute(text("ALTER TABLE agents ADD COLUMN extra INTEGER"))
        diffs = schema_differences(engine)
    finally:
        engine.dispose()
    kinds = {d[0] if isinstance(d, tuple) else d[0][0] for d in diffs}
    assert {"add_index", "remove_column"} <= kinds, diffs


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: pytest.TempPathFactory) -> None:
    url = f"sqlite:///{tmp_path}/nested/dir/am.db"  # the directory is created
    upgrade_database(url)
    db = Database.open(url)
    try:
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
    finally:
        db.dispose()


def test_settings_url_and_bad_urls(settings: object) -> None:
    from agent_monitor.settings import Settings

    assert isinstance(settings, Settings)
    assert upgrade_database(settings) == head_revision()
    assert (settings.data_dir / "agent-monitor.db").is_file()
    with pytest.raises(DatabaseUnavailableError, match="unsupported database"):
        make_engine("mysql://localhost/x")
    with pytest.raises(DatabaseUnavailableError, match="invalid database URL"):
        make_engine("not a url")
    with pytest.raises(DatabaseUnavailableError, match="cannot migrate"):
        upgrade_database("postgresql+psycopg://nobody:x@127.0.0.1:1/none")
