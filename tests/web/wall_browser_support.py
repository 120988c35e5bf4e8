"""Helpers shared by ``test_browser_wall.py`` and ``test_browser_wall_server.py``: servers on one
backend that can be stopped and started again on the same port (the ``make_server`` fixture of
``conftest.py``), a page signed in at any path that records its JavaScript errors and dialogs, a
tile's selector and screenshots into ``artifacts/screens/wall/`` (git-ignored).

(:func:`tests.web.wall_support.live_wall_page` is the other wall tests' page: always
``/supervisor``, live, JavaScript and console errors in ``page.problems``, beeps counted.)"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agent_monitor.settings import Settings
from tests.web.browser_support import signed_in_page
from tests.web.wall_support import Server, database, wall_settings

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


def wall_screen_page(
    browser: Any, url: str, user: str, path: str, width: int = 1600, height: int = 1000
) -> Any:
    """``user`` signed in at ``path`` in a window the size of the wall's screen (``width`` by
    ``height``); its JavaScript errors in ``page.errors``, its dialogs dismissed and their messages
    in ``page.dialogs`` (:func:`tests.web.browser_support.signed_in_page`)."""
    return signed_in_page(
        browser, url, user, path, dialogs="dismiss", viewport={"width": width, "height": height}
    )


def shot(page: Any, name: str, full: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)


def tile(call_id: str) -> str:
    return f".tile[data-call='{call_id}']"
