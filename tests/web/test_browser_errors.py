"""Error pages in Debian's Chromium (Playwright): a browser asking for a page that does not exist
or that its role may not open gets an HTML page in the app's style with the favicon and a way
back (the user's start page, or the sign-in page), never raw JSON; API paths keep JSON.

Screenshots: ``artifacts/screenshots/error-404.png``, ``error-403.png``, ``error-404-signed-out.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from agent_monitor.settings import Settings
from tests.web.browser_support import shot, signed_in_page
from tests.web.ui_support import ui_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, base_settings: Settings) -> Iterator[str]:
    with ui_server(base_settings, tmp_path_factory.mktemp("errors")) as (url, _):
        yield url


def favicon_shown(page: Any, url: str) -> None:
    href = page.locator("link[rel=icon]").get_attribute("href")
    icon = httpx.get(url + href)
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert page.locator(".brand img").evaluate("img => img.complete && img.naturalWidth > 0")


def test_404_and_403_pages_lead_back_home(server: str, browser: Any) -> None:
    url = server
    page = signed_in_page(browser, url, "agent1", "/agent")
    answer = page.goto(url + "/no-such-page")
    assert answer is not None and answer.status == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert page.locator("h1").inner_text() == "Not found"
    assert page.locator("h1").get_attribute("data-status") == "404"
    favicon_shown(page, url)
    back = page.locator("a#back")
    assert back.inner_text() == "Back to your start page" and back.get_attribute("href") == "/agent"
    shot(page, "error-404")

    answer = page.goto(url + "/admin")  # an agent may not open the admin page
    assert answer is not None and answer.status == 403
    assert page.locator("h1").inner_text() == "Not allowed"
    assert "your role may not do this" in page.locator(".code").inner_text()
    shot(page, "error-403")
    page.click("a#back")
    page.wait_for_url(url + "/agent")
    assert page.errors == []
    page.context.close()


def test_signed_out_404_offers_sign_in_and_api_errors_stay_json(server: str, browser: Any) -> None:
    url = server
    context = browser.new_context(locale="en-US", viewport={"width": 1000, "height": 700})
    page = context.new_page()
    answer = page.goto(url + "/calls/nothing-here")
    assert answer is not None and answer.status == 404
    back = page.locator("a#back")
    assert back.inner_text() == "Sign in" and back.get_attribute("href") == "/login"
    shot(page, "error-404-signed-out")
    page.click("a#back")
    page.wait_for_url(url + "/login")
    context.close()
    api = httpx.get(url + "/api/calls/nothing", headers={"Accept": "text/html"})
    assert api.status_code == 401 and api.json() == {"detail": "not signed in"}
    assert httpx.get(url + "/favicon.ico").headers["content-type"].startswith("image/svg+xml")
