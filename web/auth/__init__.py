"""Authentication and authorization of the web application.

``install_auth(app, settings)`` adds the sign-in routes (``/login``, ``/api/auth/*``), the admin
API (``/api/admin/*``) and the authentication state (``app.state.auth``). Routes protect
themselves with the dependencies of :mod:`web.auth.deps` and the call policy of
:mod:`web.auth.scope`; see :mod:`web.auth.matrix` for the declared access of every route.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from agent_monitor.settings import Settings


def install_auth(app: FastAPI, settings: Settings) -> None:
    """Add sign-in, the admin API and the authentication state to ``app``. The session key and
    the ingest token are read (or generated, under ``data_dir``) when the application starts."""
    from web.auth import admin, routes
    from web.auth.apidocs import install_docs
    from web.auth.headers import SecurityHeaders
    from web.auth.state import AuthState

    auth = AuthState(settings)
    app.state.auth = auth
    app.include_router(routes.router)
    app.include_router(admin.router)
    install_docs(app)
    app.add_middleware(SecurityHeaders)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:
        async with inner(a) as state:
            auth.load_secrets()
            yield state

    app.router.lifespan_context = lifespan
