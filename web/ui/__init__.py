"""The web pages and their APIs (supervisor live wall, agent panel, QA review, admin).

:func:`install_ui` adds them to the application: the routers of :mod:`web.ui.pages`,
:mod:`web.ui.api_calls`, :mod:`web.ui.api_qa`, :mod:`web.ui.live_ws`, the static assets under
``/ui/static``, the error pages in the user's language (:mod:`web.ui.error_pages`) and the masking
policy (:mod:`web.masking`).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from agent_monitor.settings import Settings

STATIC_DIR = Path(__file__).parent / "static"


def install_ui(app: FastAPI, settings: Settings) -> None:
    """Add the pages, their REST/websocket APIs and the static assets to ``app``."""
    from web.masking import MaskPolicy
    from web.ui import api_calls, api_qa, live_ws, pages, wall_routes
    from web.ui.error_pages import install_error_pages

    web = getattr(settings, "web", None)
    app.state.mask_policy = MaskPolicy.from_roles(getattr(web, "unmasked_roles", None))
    app.include_router(pages.router)
    app.include_router(api_qa.router)  # before api_calls: its /api/calls/ID/export.zip must match first
    app.include_router(api_calls.router)
    app.include_router(wall_routes.router)
    app.include_router(live_ws.router)
    app.mount("/ui/static", StaticFiles(directory=STATIC_DIR), name="ui-static")
    install_error_pages(app)
