"""Hostile requests to the QA API on both databases: a U+0000 (NUL) in a call id, a queue filter
or a review's text is a 422 on SQLite and PostgreSQL (PostgreSQL cannot hold it: a 500 there); so
is an integer of more than 4300 digits in a body (a 400 "error parsing the body" without a reason)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from agent_monitor.settings import Settings
from tests.web.backend_support import BACKENDS, ui_server_on
from tests.web.ui_support import login

NUL_REQUESTS = [
    ("GET", "/api/qa/queue?call=%00", None),
    ("GET", "/api/qa/queue?agent=a%00b", None),
    ("GET", "/api/qa/queue?team=%00", None),
    ("GET", "/api/qa/queue?rule=%00", None),
    ("GET", "/api/qa/next?after=%00", None),
    ("POST", "/api/qa/claim?after=%00", None),
    ("POST", "/api/qa/calls/%00/assign", {}),
    ("POST", "/api/qa/calls/q%00/review", {}),
    ("POST", "/api/qa/calls/q-1/assign", {"reviewer": "qa1\x00"}),
    ("POST", "/api/qa/calls/q-1/review", {"notes": "a\x00b"}),
    ("GET", "/api/calls/%00", None),
]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_nul_in_a_request_is_refused_on_both_databases(
    backend: str, base_settings: Settings, tmp_path: Path
) -> None:
    with ui_server_on(backend, base_settings, tmp_path) as (url, _app), httpx.Client(base_url=url) as c:
        csrf = login(c, "admin1")
        for method, path, body in NUL_REQUESTS:
            r = c.request(method, path, json=body, headers=csrf)
            assert r.status_code == 422 and "U+0000" in r.text, (method, path, r.status_code, r.text)
        assert c.get("/api/qa/queue?call=q").status_code == 200  # nothing else is refused
        huge = '{"scorecard": {"identification": ' + "7" * 5000 + "}}"
        headers = {**csrf, "content-type": "application/json"}
        r = c.post("/api/qa/calls/q-1/review", content=huge, headers=headers)
        assert r.status_code == 422 and "more than 4300 digits" in r.text, (r.status_code, r.text)
