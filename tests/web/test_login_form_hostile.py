"""The sign-in page's form (``POST /login``, form-encoded, not JSON) on both databases: a U+0000
(NUL) in a field is a 422 with the error page, as in a JSON body (PostgreSQL can hold no NUL: the
user's look-up failed there with a 500 and a bare "Internal Server Error")."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from agent_monitor.settings import Settings
from tests.web.backend_support import BACKENDS, ui_server_on
from tests.web.ui_support import PASSWORD


def _form(client: httpx.Client, fields: str) -> httpx.Response:
    page = client.get("/login")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None, page.text
    body = f"{fields}&csrf={found.group(1)}".encode()
    headers = {"content-type": "application/x-www-form-urlencoded", "accept": "text/html"}
    return client.post("/login", content=body, headers=headers)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_nul_in_the_sign_in_form_is_a_422_on_both_databases(
    backend: str, base_settings: Settings, tmp_path: Path
) -> None:
    with ui_server_on(backend, base_settings, tmp_path) as (url, _app), httpx.Client(base_url=url) as c:
        for fields in ("username=%00&password=x", "username=admin1%00&password=x", "username=a&next=%00"):
            r = _form(c, fields)
            assert r.status_code == 422, (fields, r.status_code, r.text[:300])
            assert "U+0000" in r.text and 'href="/login"' in r.text, r.text
        signed_in = _form(c, f"username=admin1&password={PASSWORD.replace(' ', '+')}")
        assert signed_in.status_code == 303, signed_in.text  # nothing else is refused
