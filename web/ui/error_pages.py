"""Error pages of the browser pages, in the user's language (:mod:`web.language`).

A page route (anything outside ``/api/``, ``/ws/``, ``/openapi.json`` and the static assets) that
fails with an HTTP error gets a small HTML page saying what happened in English or Chinese, with
a link home; API clients keep FastAPI's JSON ``{"detail": ...}``, and redirects (the sign-in
redirect is a 303) pass through unchanged.
"""

from __future__ import annotations

from html import escape

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from web.language import ui_lang

#: status -> (English title, English text, Chinese title, Chinese text); 0 is any other status
MESSAGES: dict[int, tuple[str, str, str, str]] = {
    403: (
        "Not allowed",
        "Your role does not give access to this page.",
        "无权访问",
        "您的角色无权查看此页面。",
    ),
    404: (
        "Not found",
        "There is no such page or call, or it is outside what you may see.",
        "页面不存在",
        "没有找到该页面或通话，或它不在您的查看范围内。",
    ),
    429: (
        "Too many requests",
        "Please wait a minute and try again.",
        "请求过于频繁",
        "请稍等一分钟后再试。",
    ),
    0: (
        "The request could not be handled",
        "Please go back and try again.",
        "请求无法处理",
        "请返回后重试。",
    ),
}
HOME = {"en": "Back to the start page", "zh": "返回首页"}
STYLE = (
    "body{font-family:system-ui,-apple-system,'Segoe UI','Noto Sans CJK SC','PingFang SC',sans-serif;"
    "background:#f3f4f6;margin:0;display:flex;justify-content:center;align-items:center;min-height:100vh}"
    "main{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002;max-width:30rem}"
    ".code{color:#6b7280;font-size:.9rem}"
)


def _is_page(path: str) -> bool:
    return not path.startswith(("/api/", "/ws/", "/ui/static/")) and path not in ("/api", "/openapi.json")


def render_error(lang: str, status: int, detail: str) -> str:
    en_title, en_text, zh_title, zh_text = MESSAGES.get(status, MESSAGES[0])
    title, text = (zh_title, zh_text) if lang == "zh" else (en_title, en_text)
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body><main>"
        f'<h1 data-status="{status}">{escape(title)}</h1><p>{escape(text)}</p>'
        f'<p class="code">{status} · {escape(detail)}</p>'
        f'<p><a href="/">{escape(HOME[lang])}</a></p></main></body></html>'
    )


async def page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code < 400 or not _is_page(request.url.path):
        return await http_exception_handler(request, exc)
    body = render_error(ui_lang(request), exc.status_code, str(exc.detail))
    headers = {**(exc.headers or {}), "Cache-Control": "no-store"}
    return HTMLResponse(body, status_code=exc.status_code, headers=headers)


def install_error_pages(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, page_error)
