"""Throw-away PostgreSQL databases for tests (one helper for every test that needs its own database).

``drop_database`` retries: ``DROP DATABASE ... WITH (FORCE)`` is refused while a backend the test
role may not terminate (e.g. an autovacuum worker that just started on the new database) is
connected, which lasts a moment."""

from __future__ import annotations

import time
import uuid

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from agent_monitor.storage.engine import database_url


def admin_engine(server_url: str) -> Engine:
    return create_engine(database_url(server_url), isolation_level="AUTOCOMMIT")


def create_database(admin: Engine, prefix: str = "am_test") -> str:
    """A new empty database; returns its URL (password included)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return admin.url.set(database=name).render_as_string(hide_password=False)


def drop_database(admin: Engine, url: str, *, tries: int = 10) -> None:
    """Drop the database of ``url``, retrying for a few seconds while it cannot be dropped yet."""
    name = make_url(url).database
    for attempt in range(tries):
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except DBAPIError:
            if attempt == tries - 1:
                raise
            time.sleep(0.5)
