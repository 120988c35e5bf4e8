"""Schema migrations (Alembic, configured in code: no ``alembic.ini``).

:func:`upgrade_database` brings a database to the newest schema; :func:`schema_differences`
compares a database with the ORM tables (empty when they match). The migration scripts live in
``agent_monitor/storage/migrations/versions``; write a new one for every change of the tables.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

import agent_monitor.storage.tables  # noqa: F401  (registers every table)
from agent_monitor.errors import DatabaseUnavailableError
from agent_monitor.storage import evidence
from agent_monitor.storage.base import Base
from agent_monitor.storage.engine import Database, make_engine
from agent_monitor.storage.search import FTS_NAMES
from agent_monitor.storage.tables import EvidenceEntry

if TYPE_CHECKING:
    from agent_monitor.settings import Settings

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migration scripts found"
    return head


def _engine(source: Settings | str | URL | Engine) -> tuple[Engine, bool]:
    if isinstance(source, Engine):
        return source, False
    return make_engine(source), True


def _seal_rows_older_than_the_evidence_chain(engine: Engine) -> None:
    """Rows written before the evidence chain existed (its log still empty) are sealed once, as
    they are now; done when the database reaches the head revision, whatever revision it came from."""
    with Session(engine) as session, session.begin():
        _one_at_a_time(session.connection())
        if session.scalar(select(EvidenceEntry.id).limit(1)) is not None:
            return
        sealed = evidence.seal_existing(session)
    if sealed:
        log.warning("sealed %d existing evidence rows into the new evidence chain", sealed)


#: the PostgreSQL advisory lock key under which one process at a time migrates (and seals)
MIGRATION_LOCK = 7_236_412_841_329_751


def _one_at_a_time(conn: Connection) -> None:
    """On PostgreSQL, hold the migration lock until the transaction ends: the nodes of a floor
    started together on a new database (or a new release's revisions) migrate one after the other,
    each later one finding the schema already there (without it all but one failed to start:
    "duplicate key value violates unique constraint pg_type_typname_nsp_index"). SQLite's
    ``BEGIN IMMEDIATE`` already does this."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})


@contextmanager
def _migration_transaction(engine: Engine) -> Iterator[Connection]:
    """``engine.begin()``, but on SQLite a real transaction around the whole migration.

    Python's sqlite3 module begins a transaction only before INSERT/UPDATE/DELETE, so each
    CREATE/ALTER/DROP of a migration was committed on its own: a ``db upgrade`` stopped half-way
    (Ctrl-C, SIGTERM, a crash) left tables behind without the revision that made them, and every
    later upgrade failed with "table ... already exists". Here the driver's own transaction
    handling is off and the migration runs inside one ``BEGIN IMMEDIATE`` (SQLite's DDL is
    transactional): it is applied whole or not at all, as on PostgreSQL."""
    with engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            with conn.begin():
                _one_at_a_time(conn)
                yield conn
            return
        driver = conn.connection.driver_connection
        level = driver.isolation_level  # type: ignore[union-attr]
        driver.isolation_level = None  # type: ignore[union-attr]
        try:
            with conn.begin():
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                yield conn
        finally:
            driver.isolation_level = level  # type: ignore[union-attr]


def _interrupt_behind(exc: BaseException) -> KeyboardInterrupt | None:
    """The Ctrl-C that ``exc`` was raised while handling, if any. A Ctrl-C inside a statement
    invalidates the connection; Alembic's batch operation then cleans up on it and fails with
    "Can't reconnect until invalid transaction is rolled back", which hid the interrupt (the
    command said "cannot migrate" and exited 1, not 130)."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return cause
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return None


def _unavailable(doing: str, engine: Engine, exc: SQLAlchemyError) -> NoReturn:
    """Raise the Ctrl-C (or SIGTERM) behind ``exc``, else "cannot ``doing``" the database."""
    interrupt = _interrupt_behind(exc)
    if interrupt is not None:  # not a database fault: the command stops as interrupted (130)
        raise interrupt from None
    raise DatabaseUnavailableError(f"cannot {doing} {engine.url!r}: {_one_line(exc)}") from exc


def upgrade_database(source: Settings | str | URL | Engine, revision: str = "head") -> str:
    """Migrate the database of ``source`` (settings, URL or engine) to ``revision``; returns the
    revision it is at afterwards. Safe to run on an up-to-date database (does nothing)."""
    engine, owned = _engine(source)
    try:
        with _migration_transaction(engine) as conn:
            # on this connection: one that cannot be made is "cannot migrate", as before
            _refuse_unknown_revision(MigrationContext.configure(conn).get_current_revision())
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
        now_at = current_revision(engine) or ""
        if now_at == head_revision():  # the sealing reads rows through the models of the head schema
            _seal_rows_older_than_the_evidence_chain(engine)
        return now_at
    except SQLAlchemyError as exc:
        _unavailable("migrate", engine, exc)
    finally:
        if owned:
            engine.dispose()


def current_revision(source: Settings | str | URL | Engine) -> str | None:
    """The database's schema revision (``None``: not migrated at all)."""
    engine, owned = _engine(source)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        _unavailable("open", engine, exc)
    finally:
        if owned:
            engine.dispose()


def require_current_schema(source: Settings | str | URL | Engine) -> None:
    """Raise :class:`DatabaseUnavailableError` unless the database is at the newest revision."""
    current, head = current_revision(source), head_revision()
    _refuse_unknown_revision(current)
    if current != head:
        raise DatabaseUnavailableError(
            f"database schema is at revision {current or 'none'}, this version needs {head}:"
            " run `agent-monitor db upgrade`"
        )


def open_upgraded_database(settings: Settings) -> Database:
    """The database of ``settings`` for a command that changes it (``users add``, ``qa forms
    save``): its data directory and database created if missing, migrated to the newest schema."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_database(settings)
    return Database.open(settings)


def open_existing_database(settings: Settings) -> Database:
    """The database of ``settings`` for a command that lists or reports: it must exist and be at
    the newest schema (nothing is created or migrated: :class:`DatabaseUnavailableError` says to
    run `agent-monitor db upgrade`)."""
    db = Database.open(settings, create=False)
    try:
        require_current_schema(db.engine)
    except BaseException:
        db.dispose()
        raise
    return db


def is_known_revision(revision: str | None) -> bool:
    """Whether this version has a migration script for ``revision`` (``None``: not migrated)."""
    if revision is None:
        return True
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False


def _refuse_unknown_revision(current: str | None) -> None:
    """A database migrated by a newer version cannot be upgraded, or served, by this one (Alembic
    raised a traceback: "Can't locate revision")."""
    if not is_known_revision(current):
        raise DatabaseUnavailableError(
            f"database schema is at revision {current}, unknown to this version (newest {head_revision()}):"
            " it was migrated by a newer agent-monitor; run that version"
        )


def schema_differences(source: Settings | str | URL | Engine) -> list[Any]:
    """What Alembic's autogenerate would change to make the database match the ORM tables
    (types included); an empty list when they match."""
    engine, owned = _engine(source)
    try:
        with engine.connect() as conn:
            opts = {"compare_type": True, "include_name": _not_full_text_index}
            ctx = MigrationContext.configure(conn, opts=opts)
            return list(compare_metadata(ctx, Base.metadata))
    finally:
        if owned:
            engine.dispose()


def _not_full_text_index(name: str | None, type_: str, parent_names: Any) -> bool:
    """Leave out the full-text index objects (not ORM tables; see :mod:`.search`)."""
    return name not in FTS_NAMES


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return " ".join(text.split())
