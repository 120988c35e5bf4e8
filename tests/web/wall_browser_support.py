"""Helpers shared by ``test_browser_wall.py`` and ``test_browser_wall_server.py``: servers on one
backend that can be stopped and started again on the same port (the ``make_server`` fixture of
``conftest.py``), a page signed in at any path that records its JavaScript errors and dialogs, a
tile's selector and screenshots into ``artifacts/screens/wall/`` (git-ignored).

(:func:`tests.web.wall_support.sign_in` is the other tests' sign-in: always ``/supervisor``, live,
JavaScript and console errors in ``page.problems``.)"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agent_monitor.settings import Settings
from tests.web.wall_support import PASSWORD, Server, database, wall_settings

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screens" / "wall"


@contextmanager
def restartable_servers(backend: str, tmp_path: Path, base_settings: Settings) -> Iterator[Any]:
    """Starts servers (same port on a restart) on ``backend``; all are stopped at the end."""
    started: list[Server] = []
    dbs: list[Any] = []

    def make(name: str = "data", port: int = 0, live: dict[str, Any] | None = None, **wall: Any) -> Server:
        data = tmp_path / name
        if name not in {Path(s.settings.data_dir).name for s in started}:
            cm = database(backend, data)
            dbs.append((name, cm, cm.__enter__()))
        url = next(u for n, _, u in dbs if n == name)
        settings = wall_settings(base_settings, data, url, **wall)
        if live:
            settings = settings.model_copy(update={"live": settings.live.model_copy(update=live)})
        server = Server(settings, port).start()
        started.append(server)
        return server

    try:
        yield make
    finally:
        for server in started:
            if server.thread.is_alive():
                server.stop()
        for _, cm, _ in dbs:
            cm.__exit__(None, None, None)


def sign_in(browser: Any, url: str, user: str, path: str, width: int = 1600, height: int = 1000) -> Any:
    context = browser.new_context(locale="en-US", viewport={"width": width, "height": height})
    page = context.new_page()
    page.errors = []
    page.dialogs = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(url + path)
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + path)
    return page


def shot(page: Any, name: str, full: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)


def tile(call_id: str) -> str:
    return f".tile[data-call='{call_id}']"
