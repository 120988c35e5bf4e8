"""The whole UI server on one database backend: ``sqlite`` (a file in the data dir) or
``postgresql`` (a throw-away database on the server named by ``AGENT_MONITOR_TEST_POSTGRES_URL``,
dropped afterwards). The browser tests run once per backend of :data:`BACKENDS`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from agent_monitor.settings import Settings
from tests.agent_monitor.storage.conftest import BACKENDS, PG_ENV, PostgresDatabases
from tests.web.ui_support import ui_server

__all__ = ["BACKENDS", "ui_server_on"]


@contextmanager
def ui_server_on(backend: str, settings: Settings, data_root: Path) -> Iterator[tuple[str, Any]]:
    """:func:`tests.web.ui_support.ui_server` with its database on ``backend``."""
    databases: PostgresDatabases | None = None
    if backend == "postgresql":
        url = os.environ.get(PG_ENV)
        if not url:
            pytest.fail(f"{PG_ENV} is not set: the browser tests also run on PostgreSQL")
        databases = PostgresDatabases(url)
        settings = settings.model_copy(update={"database_url": databases.create()})
    try:
        with ui_server(settings, data_root) as running:
            yield running
    finally:
        if databases is not None:
            databases.close()
