"""The web pages and their APIs (supervisor live wall, agent panel, QA review, admin).

:func:`install_ui` adds them to the application: the routers of :mod:`web.ui.pages`,
:mod:`web.ui.api_calls`, :mod:`web.ui.api_qa`, :mod:`web.ui.live_ws`, the static assets under
``/ui/static`` (with the favicon) and the masking policy (:mod:`web.masking`). Errors are
answered by :mod:`web.errors` (HTML pages from :mod:`web.ui.error_pages` for browsers).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from agent_monitor.settings import Settings

STATIC_DIR = Path(__file__).parent / "static"


def install_ui(app: FastAPI, settings: Settings) -> None:
    """Add the pages, their REST/websocket APIs and the static assets to ``app``."""
    from web.admin import install_admin
    from web.masking import MaskPolicy
    from web.ui import api_calls, api_forms, api_media, api_qa, api_queue, live_ws, pages, wall_routes

    web = getattr(settings, "web", None)
    app.state.mask_policy = MaskPolicy.from_roles(getattr(web, "unmasked_roles", None))
    app.include_router(pages.router)
    app.include_router(api_queue.router)
    app.include_router(api_forms.router)
    # before api_calls: /api/calls/ID/export.zip and /api/calls/ID/recordings/LEG/peaks must match first
    app.include_router(api_media.router)
    app.include_router(api_qa.router)
    app.include_router(api_calls.router)
    app.include_router(wall_routes.router)
    app.include_router(live_ws.router)
    install_admin(app)  # teams, sessions, audit log, reports
    app.mount("/ui/static", StaticFiles(directory=STATIC_DIR), name="ui-static")
