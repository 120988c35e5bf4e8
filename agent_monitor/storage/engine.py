"""Engines and sessions from the database URL.

SQLite (the default, a file under ``data_dir``) runs in WAL journal mode with foreign keys on and
a busy timeout, so the live pipeline and the web application can share one file. PostgreSQL is
used through psycopg 3: ``postgresql+psycopg://user:password@host/dbname`` (a plain
``postgresql://`` URL is taken to mean psycopg 3 as well).

A command that only reads (``db status``, ``db verify``, ``users list``) opens with ``create=False``:
a missing SQLite file is then "no database at PATH", and neither the file nor its folder is made.

The SQLite file is readable by its owner only (mode 0600; SQLite gives its WAL and shared-memory
files the same mode), and database errors never carry the statement's bound values (phone
numbers, transcripts) into logs or messages (``hide_parameters``; PostgreSQL's ``DETAIL`` line,
which quotes the failing row, is dropped too).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from agent_monitor.errors import DatabaseUnavailableError
from agent_monitor.storage import evidence, review_seal

if TYPE_CHECKING:
    from agent_monitor.settings import Settings

#: what a PostgreSQL connection is named by default (``application_name``); a server adds its node
APP_NAME = "agent-monitor"
#: how long an SQLite writer waits for another writer's lock before failing (milliseconds)
SQLITE_BUSY_TIMEOUT_MS = 30_000


def database_url(source: Settings | str | URL) -> URL:
    """The SQLAlchemy URL of ``source`` (settings, URL string or URL), normalised to our drivers."""
    if isinstance(source, URL):
        url = source
    else:
        raw = source if isinstance(source, str) else source.effective_database_url
        try:
            url = make_url(raw)
        except ArgumentError as exc:
            raise DatabaseUnavailableError(f"invalid database URL {raw!r}: {exc}") from exc
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseUnavailableError(
            f"unsupported database {url.get_backend_name()!r}: use sqlite:/// or postgresql+psycopg://"
        )
    return url


def make_engine(
    source: Settings | str | URL, *, create: bool = True, name: str = APP_NAME, **kwargs: Any
) -> Engine:
    """An engine for ``source``; for an SQLite file its directory and the file are created if
    missing, or, with ``create=False``, :class:`DatabaseUnavailableError` if the file is missing.
    From settings, the pool is ``database``'s; on PostgreSQL the connections carry ``name``
    (``application_name``, seen in ``pg_stat_activity``)."""
    url = database_url(source)
    in_memory = url.get_backend_name() == "sqlite" and sqlite_file(url) is None
    if not isinstance(source, str | URL) and not in_memory:  # in memory: one connection, no pool
        pool = source.database
        kwargs.setdefault("pool_size", pool.pool_size)
        kwargs.setdefault("max_overflow", source.database_overflow)
        kwargs.setdefault("pool_timeout", pool.pool_timeout_s)
    if url.get_backend_name() == "sqlite":
        path = sqlite_file(url)
        if path is not None and path.is_dir():
            raise DatabaseUnavailableError(f"database path {path} is a folder, not a database file")
        if path is not None and create:
            _private_file(path)
        elif path is not None and not path.is_file():
            raise DatabaseUnavailableError(f"no database at {path} (run `agent-monitor db upgrade`)")
        kwargs.setdefault("hide_parameters", True)
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, **kwargs.pop("connect_args", {})}
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("hide_parameters", True)
    connect_args = {"application_name": name[:63], **kwargs.pop("connect_args", {})}  # 63: NAMEDATALEN
    engine = create_engine(url, connect_args=connect_args, **kwargs)
    event.listen(engine, "handle_error", _without_row_values)
    return engine


def sqlite_file(url: URL) -> Path | None:
    """The file of an SQLite URL (``None``: in memory, or a ``file:`` URI)."""
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        return Path(url.database)
    return None


def _without_row_values(ctx: ExceptionContext) -> BaseException | None:
    """PostgreSQL puts the offending row's values in an error's ``DETAIL`` line ("Failing row
    contains (..., +14155551234, ...)"); the error is raised again without that line."""
    wrapped, orig = ctx.sqlalchemy_exception, ctx.original_exception
    if not isinstance(wrapped, DBAPIError):
        return None
    text = str(orig)
    lines = [line for line in text.splitlines() if not line.startswith("DETAIL:")]
    if len(lines) == len(text.splitlines()):
        return None
    try:
        scrubbed = type(orig)("\n".join(lines))
    except Exception:  # an error class that cannot be built from a message: keep the original
        return None
    return type(wrapped)(
        wrapped.statement,
        None,
        scrubbed,
        hide_parameters=True,
        connection_invalidated=wrapped.connection_invalidated,
    )


def _private_file(path: Path) -> None:
    """Create the SQLite file's directory, and the file itself with mode 0600 (or set that mode)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseUnavailableError(f"cannot create database directory {path.parent}: {exc}") from exc
    existed = path.exists()
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    except OSError as exc:
        if existed and exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise DatabaseUnavailableError(
                f"database file {path} is read-only: it cannot be written ({exc.strerror})"
            ) from exc
        doing = "open database file for writing" if existed else "create database file"
        raise DatabaseUnavailableError(f"cannot {doing} {path}: {exc.strerror or exc}") from exc
    try:
        os.chmod(path, 0o600)
    except OSError as exc:
        raise DatabaseUnavailableError(
            f"cannot make database file {path} private (mode 0600): {exc.strerror or exc}"
        ) from exc


def _sqlite_on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # in WAL mode NORMAL loses no committed transaction when the process dies (only on power loss)
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


class Database:
    """An engine and its session factory; ``with db.session() as s:`` commits or rolls back."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False)
        # every finished QA review goes under its own chain (first: the evidence hook seals last
        # whatever the commit flushed)
        review_seal.install(self.sessions)
        # every transcript, rule hit, call and recording written goes under the evidence chain
        evidence.install(self.sessions)

    @classmethod
    def open(cls, source: Settings | str | URL, *, create: bool = True, **engine_kwargs: Any) -> Database:
        """The database of ``source``; ``create=False``: an SQLite file must exist already."""
        return cls(make_engine(source, create=create, **engine_kwargs))

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed when the block ends, rolled back on error."""
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
