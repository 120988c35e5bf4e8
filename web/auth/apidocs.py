"""The REST API's documentation, offline and behind sign-in.

FastAPI's ``/docs`` and ``/redoc`` pages load their scripts from a CDN, which this product may not
use, so they are removed; ``GET /openapi.json`` (the OpenAPI description) and ``GET /api-docs`` (a
plain HTML rendering of it, no scripts) are served to signed-in users only.
"""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from web.auth.deps import SignedIn

_CDN_PAGES = ("/docs", "/docs/oauth2-redirect", "/redoc")
SECURITY_SCHEMES: dict[str, Any] = {
    "session": {"type": "apiKey", "in": "cookie", "name": "am_session"},
    "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"},
    "ingest": {"type": "http", "scheme": "bearer", "description": "the server's ingest token"},
}
API_DESCRIPTION = (
    "Sign in with POST /api/auth/login (JSON username and password): it sets the session cookie "
    "am_session. Send the X-CSRF-Token header (GET /api/auth/me gives it) with every POST, PATCH "
    "and DELETE. Roles: agent (own calls), supervisor (team calls), qa (flagged finished calls), "
    "admin (everything, users, rule packs). Machine endpoints (/ws/ingest, /ws/twilio, "
    "/api/audiosocket/register) take the ingest token as a bearer token instead."
)


def _render(spec: dict[str, Any]) -> str:
    info = spec.get("info", {})
    rows: list[str] = []
    for path, ops in sorted(spec.get("paths", {}).items()):
        for method, op in ops.items():
            params = ", ".join(
                f"{escape(p['name'])} ({escape(p.get('in', ''))})" for p in op.get("parameters", [])
            )
            body = "JSON body" if "requestBody" in op else ""
            codes = ", ".join(sorted(op.get("responses", {})))
            rows.append(
                f"<tr><td><code>{escape(method.upper())}</code></td><td><code>{escape(path)}</code></td>"
                f"<td>{escape(op.get('summary', ''))}<br><small>{escape(op.get('description', ''))}</small>"
                f"</td><td>{params} {body}</td><td>{escape(codes)}</td></tr>"
            )
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{escape(info.get("title", "API"))}'
        "</title><style>body{font-family:system-ui,sans-serif;margin:2rem}td,th{border:1px solid #ccc;"
        "padding:.3rem;vertical-align:top;text-align:left}table{border-collapse:collapse}</style></head>"
        f"<body><h1>{escape(info.get('title', 'API'))} REST API</h1>"
        '<p>Machine-readable description: <a href="/openapi.json">/openapi.json</a> (OpenAPI). Sign-in: '
        "<code>POST /api/auth/login</code>; send the <code>X-CSRF-Token</code> header (from "
        "<code>GET /api/auth/me</code>) with every POST/PATCH/DELETE.</p>"
        "<table><tr><th>Method</th><th>Path</th><th>What</th><th>Parameters</th><th>Responses</th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )


def install_docs(app: FastAPI) -> None:
    """Replace FastAPI's CDN-based doc pages and open OpenAPI route by signed-in ones."""
    base_openapi = app.openapi

    def openapi_with_security() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = base_openapi()
            spec.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
            spec["info"]["description"] = API_DESCRIPTION
        return app.openapi_schema or spec

    app.openapi = openapi_with_security  # type: ignore[method-assign]
    drop = {*_CDN_PAGES, app.openapi_url}
    app.router.routes[:] = [r for r in app.router.routes if not (isinstance(r, Route) and r.path in drop)]
    app.docs_url = app.redoc_url = None

    app.add_api_route("/openapi.json", openapi, include_in_schema=False)
    app.add_api_route("/api-docs", api_docs, include_in_schema=False, response_class=HTMLResponse)


# The two routes are module functions that find their app on the request: FastAPI keeps the
# callables of routes in process-wide caches, so a route made as a closure over ``app`` would keep
# every app made in the process alive (a test process makes hundreds).
async def openapi(request: Request, user: SignedIn) -> JSONResponse:
    return JSONResponse(request.app.openapi())


async def api_docs(request: Request, user: SignedIn) -> HTMLResponse:
    return HTMLResponse(_render(request.app.openapi()))
