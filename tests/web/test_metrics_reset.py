"""``/api/metrics``: a GET changes nothing; the loop-lag window starts again only on a POST with the
CSRF token (real application, real SQLite database, the real Vosk model).

``GET /api/metrics?reset=true`` emptied the window, so a second tab, a browser's prefetch or a
monitoring script polling with the same address cut another reader's figures short. It is now
refused (422, naming the POST), and ``POST /api/metrics/reset`` answers the window it ends."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from agent_monitor.settings import Settings
from tests.web.auth_support import add_users, app_settings, running, sign_in


def _samples(body: dict[str, dict[str, int]]) -> int:
    return body["loop_lag"]["samples"]


def _window_filled(get: Callable[[], dict[str, dict[str, int]]], at_least: int) -> int:
    """The loop-lag sample count once it reaches ``at_least`` (the monitor samples every 0.1 s)."""
    deadline = time.monotonic() + 10
    while True:
        n = _samples(get())
        if n >= at_least or time.monotonic() > deadline:
            return n
        time.sleep(0.1)


def test_a_get_never_resets_and_the_post_does(base_settings: Settings, tmp_path: Path) -> None:
    with running(app_settings(base_settings, tmp_path)) as client:
        add_users(client)
        sup = sign_in(client, "sup_red")

        def get() -> dict[str, dict[str, int]]:
            response = client.get("/api/metrics", headers=sup.headers())
            assert response.status_code == 200, response.text
            return dict(response.json())

        before = _window_filled(get, 5)
        assert before >= 5
        refused = client.get("/api/metrics", params={"reset": "true"}, headers=sup.headers())
        assert refused.status_code == 422 and "POST /api/metrics/reset" in refused.text
        assert _samples(get()) >= before  # the refused GET emptied nothing
        no_csrf = client.post("/api/metrics/reset", headers=sup.headers(csrf=False))
        assert no_csrf.status_code == 403
        assert _samples(get()) >= before
        reset = client.post("/api/metrics/reset", headers=sup.headers())
        assert reset.status_code == 200, reset.text
        ended = _samples(reset.json())
        assert ended >= before and set(reset.json()) == set(get())
        assert _samples(get()) < ended  # a new window
