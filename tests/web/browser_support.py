"""Debian Chromium through Playwright (``executable_path``; never ``playwright install``) for the
browser tests: the shared ``browser`` fixture lives in ``conftest.py``, these are its helpers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from re import Pattern
from typing import Any, Literal

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


#: the browser window of most browser tests
VIEWPORT = {"width": 1400, "height": 900}
#: the browser's own console error while a test holds a page offline (the network's doing)
OFFLINE = "ERR_INTERNET_DISCONNECTED"
#: what a test page does with a dialog (``alert``, ``confirm``, "leave the page?")
DialogAnswer = Literal["accept", "dismiss"]


def submit_sign_in(page: Any, user: str, *, then: str | Pattern[str], password: str = PASSWORD) -> None:
    """Sign in as ``user`` through the login form ``page`` shows, then wait until the page is at
    ``then`` (an address, or a pattern of one)."""
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(then)


def watched_page(browser: Any, *, dialogs: DialogAnswer | None = None, **context: Any) -> Any:
    """A page in a new browser context (``context``: its options; en-US and :data:`VIEWPORT` unless
    given) whose JavaScript errors are collected in ``page.errors``. ``dialogs`` given: every dialog
    is answered so and its message collected in ``page.dialogs`` (else Playwright dismisses them,
    unrecorded, unless the test listens itself)."""
    page = browser.new_context(**{"locale": "en-US", "viewport": VIEWPORT, **context}).new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    if dialogs is not None:
        accept = dialogs == "accept"
        page.dialogs = []
        page.on("dialog", lambda d: (page.dialogs.append(d.message), d.accept() if accept else d.dismiss()))
    return page


def watch_problems(page: Any) -> Any:
    """``page``, its JavaScript errors and console errors collected in ``page.problems`` (a test
    fails on any), but for the :data:`OFFLINE` ones."""
    page.problems = []
    page.on("pageerror", lambda exc: page.problems.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda m: page.problems.append(m.text) if m.type == "error" and OFFLINE not in m.text else None,
    )
    return page


def signed_in_page(
    browser: Any, url: str, user: str, path: str, *, dialogs: DialogAnswer | None = None, **context: Any
) -> Any:
    """A :func:`watched_page` (``dialogs``, ``context``: as there) signed in as ``user`` through the
    login form, at ``path``."""
    page = watched_page(browser, dialogs=dialogs, **context)
    page.goto(url + path)
    assert "/login" in page.url, page.url  # no page works without signing in
    submit_sign_in(page, user, then=url + path)
    return page


def shot(page: Any, name: str) -> None:
    """A full-page screenshot into ``artifacts/screenshots/NAME.png``."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
