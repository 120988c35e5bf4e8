"""``HEAD`` where ``GET`` works, on a real server (uvicorn on 127.0.0.1, the real application):
what a monitoring probe (``HEAD /healthz``), ``curl -I`` on a page or a static file and a browser
send. Each was a 405 but the static files; now the status and headers of the ``GET``
(``Content-Length`` and ``Content-Type`` included) and no body. A ``HEAD`` is refused where the
``GET`` is (the authorization matrix checks every route so: ``test_authz_matrix.py``)."""

from __future__ import annotations

import httpx
import pytest

from tests.web.live_support import LiveServer


@pytest.mark.parametrize(
    ("path", "cookie", "status"),
    [
        ("/healthz", False, 200),
        ("/login", False, 200),
        ("/favicon.ico", False, 200),
        ("/ui/static/common.js", False, 200),
        ("/api/languages", False, 200),
        ("/admin", True, 200),  # a page, signed in (the admin)
        ("/api/calls", True, 200),
        ("/", False, 303),  # signed out: to the sign-in page, as the GET
        ("/api/calls", False, 401),  # no bypass of the session check
        ("/api/admin/users", False, 401),
        ("/no-such-page", False, 404),
        ("/api/auth/login", False, 405),  # POST only: no GET, so no HEAD
    ],
)
def test_head_answers_as_get_without_a_body(
    live_server: LiveServer, path: str, cookie: bool, status: int
) -> None:
    headers = {"Cookie": live_server.cookie} if cookie else {}
    with httpx.Client(base_url=live_server.url, headers=headers, follow_redirects=False) as client:
        got = client.get(path)
        head = client.head(path)
    assert (got.status_code, head.status_code) == (status, status), head.text
    assert head.content == b""
    for name in ("content-type", "content-length", "location", "cache-control", "x-frame-options"):
        assert head.headers.get(name) == got.headers.get(name), name
    if status == 200:
        assert int(head.headers["content-length"]) == len(got.content) > 0
