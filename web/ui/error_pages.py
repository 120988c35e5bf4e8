"""The HTML error page of the browser pages, in the user's language (:mod:`web.language`).

:func:`render_error` is what :mod:`web.errors` answers a page request with when it fails: what
happened in English or Chinese, the status and the server's one-line reason, and a way back (the
signed-in user's start page, or the sign-in page). Same look as the sign-in page, with the
favicon.
"""

from __future__ import annotations

from html import escape

#: status -> (English title, English text, Chinese title, Chinese text); 0 is any other status
MESSAGES: dict[int, tuple[str, str, str, str]] = {
    401: ("Sign in first", "This page needs you to be signed in.", "请先登录", "此页面需要登录后查看。"),
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
    409: (
        "Not possible now",
        "This conflicts with the current state; reload and try again.",
        "当前无法操作",
        "与当前状态冲突，请刷新后重试。",
    ),
    413: ("Too large", "What was sent is too large.", "内容过大", "提交的内容过大。"),
    422: (
        "Cannot be used",
        "What was sent cannot be used as it is.",
        "内容无效",
        "提交的内容无法使用。",
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
#: the way back: to the signed-in user's start page, or to sign in
BACK = {
    "home": {"en": "Back to your start page", "zh": "返回您的首页"},
    "login": {"en": "Sign in", "zh": "登录"},
}
FAVICON = "/ui/static/favicon.svg"
STYLE = (
    "body{font-family:system-ui,-apple-system,'Segoe UI','Noto Sans CJK SC','PingFang SC',sans-serif;"
    "background:#f4f5f7;color:#1d2430;margin:0;display:flex;justify-content:center;align-items:center;"
    "min-height:100vh}main{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002;"
    "max-width:30rem;border-top:6px solid #2459d6}.brand{display:flex;gap:.5rem;align-items:center;"
    "color:#475467;font-weight:600;margin-bottom:1rem}.brand img{width:24px;height:24px}"
    ".code{color:#475467;font-size:.9rem}a.back{display:inline-block;margin-top:.5rem;padding:.5rem 1rem;"
    "background:#2459d6;color:#fff;border-radius:4px;text-decoration:none}"
)
BRAND = {"en": "Agent Monitor", "zh": "坐席监控"}


def render_error(lang: str, status: int, detail: str, back_href: str, back_kind: str) -> str:
    """The page for ``status`` (``detail``: the server's reason); ``back_kind`` is ``home`` or ``login``."""
    en_title, en_text, zh_title, zh_text = MESSAGES.get(status, MESSAGES[0])
    title, text = (zh_title, zh_text) if lang == "zh" else (en_title, en_text)
    back = BACK[back_kind][lang]
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<link rel="icon" href="{FAVICON}" type="image/svg+xml">'
        f"<title>{escape(title)} · {BRAND[lang]}</title><style>{STYLE}</style></head><body><main>"
        f'<div class="brand"><img src="{FAVICON}" alt="">{BRAND[lang]}</div>'
        f'<h1 data-status="{status}">{escape(title)}</h1><p>{escape(text)}</p>'
        f'<p class="code">{status} · {escape(detail)}</p>'
        f'<p><a class="back" id="back" href="{escape(back_href, quote=True)}">{escape(back)}</a></p>'
        f"</main></body></html>"
    )
