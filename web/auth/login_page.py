"""The sign-in page: plain HTML and inline CSS (no scripts, no CDN), English and Chinese."""

from __future__ import annotations

from html import escape

TEXT = {
    "en": {
        "title": "Agent Monitor: sign in",
        "heading": "Sign in",
        "username": "Username",
        "password": "Password",
        "submit": "Sign in",
        "failed": "Wrong username or password.",
        "throttled": "Too many failed attempts. Try again in a minute.",
        "expired": "The form expired. Please try again.",
        "other": "中文",
    },
    "zh": {
        "title": "Agent Monitor：登录",
        "heading": "登录",
        "username": "用户名",
        "password": "密码",
        "submit": "登录",
        "failed": "用户名或密码错误。",
        "throttled": "失败次数过多，请一分钟后再试。",
        "expired": "表单已过期，请重试。",
        "other": "English",
    },
}

STYLE = (
    "body{font-family:system-ui,-apple-system,'Segoe UI','Noto Sans CJK SC','PingFang SC',sans-serif;"
    "background:#f3f4f6;display:flex;justify-content:center;align-items:center;min-height:100vh;margin:0}"
    "main{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002;width:20rem}"
    "label{display:block;margin:.8rem 0 .2rem}input{width:100%;box-sizing:border-box;padding:.5rem}"
    "button{margin-top:1.2rem;width:100%;padding:.6rem;background:#1d4ed8;color:#fff;border:0;"
    "border-radius:4px;font-size:1rem}.err{color:#b91c1c}.lang{float:right;font-size:.9rem}"
)


def safe_next(target: str | None) -> str:
    """Only a path on this server (no scheme, no host, no ``//``) is a place to go after sign-in."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or "\\" in target:
        return "/"
    if any(ord(c) < 32 for c in target):
        return "/"
    return target


def render(lang: str, csrf: str, next_path: str, error: str | None = None, username: str = "") -> str:
    t = TEXT[lang]
    other = "zh" if lang == "en" else "en"
    err = f'<p class="err" role="alert">{escape(t[error])}</p>' if error else ""
    nxt = escape(next_path, quote=True)
    return (
        f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<link rel="icon" href="/ui/static/favicon.svg" type="image/svg+xml">'
        f"<title>{escape(t['title'])}</title><style>{STYLE}</style></head><body><main>"
        f'<a class="lang" href="/login?lang={other}&amp;next={escape(_quote(next_path), quote=True)}">'
        f"{t['other']}</a><h1>{escape(t['heading'])}</h1>{err}"
        f'<form method="post" action="/login">'
        f'<input type="hidden" name="csrf" value="{escape(csrf, quote=True)}">'
        f'<input type="hidden" name="next" value="{nxt}">'
        f'<input type="hidden" name="lang" value="{lang}">'
        f'<label for="username">{escape(t["username"])}</label>'
        f'<input id="username" name="username" autocomplete="username" required autofocus '
        f'value="{escape(username, quote=True)}">'
        f'<label for="password">{escape(t["password"])}</label>'
        f'<input id="password" name="password" type="password" autocomplete="current-password" required>'
        f'<button type="submit">{escape(t["submit"])}</button></form></main></body></html>'
    )


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="")
