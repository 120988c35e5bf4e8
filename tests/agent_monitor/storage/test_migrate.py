"""Migrations (agent_monitor/storage/migrate.py): a database this version does not know, an empty
PostgreSQL database, an interrupted batch migration, and several nodes migrating at once."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, inspect

from agent_monitor.cli import main
from agent_monitor.storage.migrate import current_revision, head_revision, upgrade_database
from tests.agent_monitor.storage.conftest import PostgresDatabases

REPO = Path(__file__).resolve().parents[3]


def test_a_database_migrated_by_a_newer_version_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`db upgrade` on a database at a revision no migration script of this version knows was a
    traceback (Alembic's "Can't locate revision"), and `db status`/`db verify` told the operator to
    run `db upgrade`. Now: one line saying a newer version migrated it; the database is untouched."""
    data = tmp_path / "data"
    data.mkdir()
    db_file = data / "agent-monitor.db"
    upgrade_database(f"sqlite:///{db_file}")
    with sqlite3.connect(db_file) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    monkeypatch.setenv("AGENT_MONITOR_DATA_DIR", str(data))
    before = db_file.read_bytes()
    said = (
        f"agent-monitor: error: database schema is at revision 9999, unknown to this version (newest"
        f" {head_revision()}): it was migrated by a newer agent-monitor; run that version"
    )
    for command in ("upgrade", "verify"):
        assert main(["db", command]) == 1
        assert capsys.readouterr().err.strip() == said
    assert main(["db", "status"]) == 0
    assert "unknown to this version" in capsys.readouterr().out
    assert db_file.read_bytes() == before


def test_reports_on_an_empty_postgresql_database_create_no_tables(
    postgres: PostgresDatabases,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """On PostgreSQL `db status` of an empty database made nothing (revision none), but `users
    list` migrated it (every table) and made the data directory. Now neither does anything."""
    url = postgres.create()
    try:
        monkeypatch.setenv("AGENT_MONITOR_DATABASE_URL", url)
        monkeypatch.setenv("AGENT_MONITOR_DATA_DIR", str(tmp_path / "data"))
        assert main(["db", "status"]) == 0
        assert "revision none" in capsys.readouterr().out
        assert main(["users", "list"]) == 1
        assert "schema is at revision none" in capsys.readouterr().err
        engine = create_engine(url)
        try:
            assert inspect(engine).get_table_names() == []
        finally:
            engine.dispose()
        assert not (tmp_path / "data").exists()
    finally:
        postgres.drop(url)


@pytest.mark.parametrize("statement", ["DROP TABLE qa_reviews", "DROP TABLE signal_health"])
def test_a_ctrl_c_inside_a_batch_migration_stops_as_interrupted(tmp_path: Path, statement: str) -> None:
    """A Ctrl-C inside a statement of one of Alembic's batch operations (SQLite rebuilds the table)
    invalidated the connection; the batch's clean-up then failed with "Can't reconnect until invalid
    transaction is rolled back", and `db upgrade` said "cannot migrate" and exited 1 instead of 130
    (seen once in a loaded whole run of `test_stopping.py`). The interrupt is raised again, and the
    database is left as it was: no table, no revision (one transaction)."""
    db_file = tmp_path / "agent-monitor.db"
    engine = create_engine(f"sqlite:///{db_file}")

    def interrupt(cursor: object, sql: str, parameters: object, context: object) -> None:
        if statement in sql:
            raise KeyboardInterrupt

    event.listen(engine, "do_execute", interrupt)
    try:
        with pytest.raises(KeyboardInterrupt):
            upgrade_database(engine)
    finally:
        engine.dispose()
    assert inspect(create_engine(f"sqlite:///{db_file}")).get_table_names() == []


#: ``agent-monitor db upgrade`` in a process of its own, started at the UNIX time ``argv[1]``
_UPGRADE_AT = (
    "import sys, time; time.sleep(max(0.0, float(sys.argv[1]) - time.time())); "
    "from agent_monitor.cli import main; sys.exit(main(['db', 'upgrade']))"
)


def test_nodes_migrating_one_new_postgresql_database_at_once_all_start(
    postgres: PostgresDatabases, tmp_path: Path
) -> None:
    """The nodes of a floor started together on a new database (or on a release with new
    revisions) each migrate it at start. Three at once: two failed ("cannot migrate ...: duplicate
    key value violates unique constraint pg_type_typname_nsp_index"), in 3 of 3 tries. Now they
    migrate one after the other (a PostgreSQL advisory lock); the later ones find it done."""
    url = postgres.create()
    try:
        at = time.time() + 3.0  # every process imported and waiting
        procs = []
        for i in range(3):
            env = {
                **os.environ,
                "AGENT_MONITOR_DATABASE_URL": url,
                "AGENT_MONITOR_DATA_DIR": str(tmp_path / f"n{i}"),
            }
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-c", _UPGRADE_AT, str(at)],
                    env=env,
                    cwd=REPO,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            )
        said = [p.communicate(timeout=120)[0] for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0], said
        assert current_revision(url) == head_revision()
    finally:
        postgres.drop(url)
