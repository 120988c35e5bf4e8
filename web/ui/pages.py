"""The HTML pages: small shells that load the page's script from ``/ui/static`` (no CDN, no build
step, system fonts). The interface language is decided on the server (:mod:`web.language`: the
``am_lang`` cookie the language switch sets, else ``Accept-Language``) and written into
``<html lang>``, which the scripts follow.

- ``/``: to the home page of the user's role.
- ``/supervisor``: live wall (supervisor, admin); ``/supervisor/calls`` (the team's recent calls)
  is in :mod:`web.ui.wall_routes`.
- ``/agent``: the agent's warning panel (agent).
- ``/qa``: the QA queue (qa, admin); ``/qa/calls/{call_id}``: review and replay of one call
  (qa, admin, and supervisors for their team's calls).
- ``/admin``: users and rule packs (admin).
"""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from web.auth.deps import (
    AdminUser,
    AgentUser,
    CurrentUser,
    ReplayUser,
    ReviewerUser,
    SignedIn,
    SupervisorUser,
)
from web.auth.scope import visible_call
from web.language import ui_lang
from web.services import in_db
from web.ui.vocab import home_page, vocabulary_script

router = APIRouter(include_in_schema=False)

STATIC = "/ui/static"
#: bumped when the assets change so browsers do not keep stale copies
ASSET_VERSION = "22"
TITLE = {"en": "Agent Monitor", "zh": "坐席监控"}
FAVICON_FILE = Path(__file__).parent / "static" / "favicon.svg"
#: a page's own modules and stylesheet, loaded before its main script (the wall is split in small files)
WALL_MODULES = (
    "wall_i18n",
    "live_conn",
    "wall_sound",
    "wall_alerts",
    "wall_popups",
    "wall_tiles",
    "wall_triage",
    "wall_listen",
)
PAGE_MODULES = {
    "supervisor": WALL_MODULES,
    "supervisor_calls": ("wall_i18n",),
    "agent": ("live_conn",),
    "qa": ("qa_hold",),
    "qa_call": ("qa_hold", "qa_scorecard"),
}
PAGE_STYLES = {"supervisor": ("wall",), "supervisor_calls": ("wall",)}


def shell(request: Request, page: str, user: CurrentUser, data: dict[str, str] | None = None) -> HTMLResponse:
    attrs = "".join(f' data-{k}="{html.escape(v, quote=True)}"' for k, v in (data or {}).items())
    v = ASSET_VERSION
    lang = ui_lang(request)
    modules = "".join(f'<script src="{STATIC}/{m}.js?v={v}"></script>\n' for m in PAGE_MODULES.get(page, ()))
    styles = "".join(
        f'<link rel="stylesheet" href="{STATIC}/{m}.css?v={v}">\n' for m in PAGE_STYLES.get(page, ())
    )
    body = f"""<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{TITLE[lang]}</title>
<link rel="icon" href="{STATIC}/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="{STATIC}/style.css?v={v}">
{styles}</head>
<body data-page="{page}" data-user="{html.escape(user.username, quote=True)}" data-role="{user.role}"{attrs}>
<header id="topbar"></header>
<main id="main"></main>
{vocabulary_script()}
<script src="{STATIC}/i18n.js?v={v}"></script>
<script src="{STATIC}/common.js?v={v}"></script>
{modules}<script src="{STATIC}/{page}.js?v={v}"></script>
</body>
</html>
"""
    return HTMLResponse(body, headers={"Cache-Control": "no-store"})


@router.get("/")
async def home(user: SignedIn) -> RedirectResponse:
    return RedirectResponse(home_page(user.role), status_code=303)


@router.get("/favicon.ico")
async def favicon() -> FileResponse:
    """The favicon for clients that ask for it before reading a page's ``<link rel="icon">``."""
    return FileResponse(FAVICON_FILE, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


@router.get("/supervisor", response_class=HTMLResponse)
async def supervisor(request: Request, user: SupervisorUser) -> HTMLResponse:
    return shell(request, "supervisor", user)


@router.get("/agent", response_class=HTMLResponse)
async def agent(request: Request, user: AgentUser) -> HTMLResponse:
    return shell(request, "agent", user, {"agent-id": user.agent_id or ""})


@router.get("/qa", response_class=HTMLResponse)
async def qa(request: Request, user: ReviewerUser) -> HTMLResponse:
    return shell(request, "qa", user)


@router.get("/qa/calls/{call_id:path}", response_class=HTMLResponse)
async def qa_call(request: Request, call_id: str, user: ReplayUser) -> HTMLResponse:
    await in_db(request, lambda s: visible_call(s, user, call_id))  # 404 outside the user's scope
    return shell(request, "qa_call", user, {"call-id": call_id})


@router.get("/admin", response_class=HTMLResponse)
async def admin(request: Request, user: AdminUser) -> HTMLResponse:
    return shell(request, "admin", user)
