"""Debian Chromium through Playwright (``executable_path``; never ``playwright install``) for the
browser tests: the shared ``browser`` fixture lives in ``conftest.py``, these are its helpers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.ui_support import PASSWORD

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def launch_chromium() -> Iterator[Any]:
    """Debian's Chromium, headless; fails (never skips) when it is not installed."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} not found (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def signed_in_page(browser: Any, url: str, user: str, path: str, locale: str = "en-US") -> Any:
    """A fresh browser context signed in as ``user`` through the login form, at ``path``."""
    context = browser.new_context(locale=locale, viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    page.goto(url + path)
    assert "/login" in page.url, page.url  # no page works without signing in
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + path)
    return page


def shot(page: Any, name: str) -> None:
    """A full-page screenshot into ``artifacts/screenshots/NAME.png``."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
