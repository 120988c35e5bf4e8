"""Security headers on every HTTP response (a pure ASGI middleware; websockets pass untouched):
no MIME sniffing, no framing by any site (clickjacking: ``X-Frame-Options`` and the content
security policy's ``frame-ancestors``), no referrer to other origins, no caching of API answers
(personal data) by shared caches, and a content security policy that lets pages load scripts,
styles, media and connections from this server only (no inline or injected script runs, no
plugins, forms post only here)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: the pages' scripts and styles are files under /static (the sign-in page and the API page
#: have one inline <style> each, hence 'unsafe-inline' for styles only)
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = str(scope.get("path", "")).startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in HEADERS if h[0] not in present)
                if api and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
