"""The whole UI server on one database backend: ``sqlite`` (a file in the data dir) or
``postgresql`` (a throw-away database on the server named by ``AGENT_MONITOR_TEST_POSTGRES_URL``,
dropped afterwards). The browser tests run once per backend of :data:`BACKENDS`; those whose server
only needs some stored data get their module's ``server`` fixture from :func:`seeded_server`."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.settings import Settings
from tests.agent_monitor.storage.conftest import BACKENDS, PG_ENV, PostgresDatabases
from tests.web.ui_support import ui_server

__all__ = ["BACKENDS", "Seed", "backend_database", "seeded_server", "ui_server_on"]

#: stores a module's data: ``seed(db, data_dir, clip)``, ``clip`` the start of the real call
Seed = Callable[[Any, Path, CallAudio], None]


@contextmanager
def backend_database(backend: str, who: str) -> Iterator[str | None]:
    """The database URL of ``backend`` for a test: ``None`` for ``sqlite`` (the data dir's file),
    a throw-away PostgreSQL database (dropped afterwards) for ``postgresql``; ``who`` says in the
    failure which tests need PostgreSQL when ``AGENT_MONITOR_TEST_POSTGRES_URL`` is not set."""
    if backend != "postgresql":
        yield None
        return
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.fail(f"{PG_ENV} is not set: {who} also run on PostgreSQL")
    databases = PostgresDatabases(url)
    try:
        yield databases.create()
    finally:
        databases.close()


@contextmanager
def ui_server_on(backend: str, settings: Settings, data_root: Path) -> Iterator[tuple[str, Any]]:
    """:func:`tests.web.ui_support.ui_server` with its database on ``backend``."""
    with backend_database(backend, "the browser tests") as url:
        if url is not None:
            settings = settings.model_copy(update={"database_url": url})
        with ui_server(settings, data_root) as running:
            yield running


def seeded_server(prefix: str, seed: Seed, clip_s: float) -> Any:
    """A module-scoped ``server`` fixture, once per backend of :data:`BACKENDS`: the UI server
    (:func:`ui_server_on`) on a new data root ``prefix``N with what ``seed`` stores, given the first
    ``clip_s`` seconds of the real call (the ``real_call`` fixture); it yields ``(url, backend)``.
    A module assigns it: ``server = seeded_server("qa-queue", _store, 20.0)``."""

    @pytest.fixture(scope="module", params=BACKENDS, name="server")
    def server(
        request: pytest.FixtureRequest,
        tmp_path_factory: pytest.TempPathFactory,
        base_settings: Settings,
        real_call: CallAudio,
    ) -> Iterator[tuple[str, str]]:
        root = tmp_path_factory.mktemp(prefix)
        with ui_server_on(request.param, base_settings, root) as (url, app):
            seed(app.state.services.db, root / "data", real_call.excerpt(0.0, clip_s))
            yield url, request.param

    return server
