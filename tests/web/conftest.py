"""A real server for the live-ingest tests: uvicorn on 127.0.0.1 (random ports), the real Vosk model,
a real SQLite database and recordings in a temporary directory; the browser; the wall tests' servers
that can be restarted (``make_server``, on each backend)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import SecretStr

from agent_monitor.accounts.passwords import hash_password
from agent_monitor.compose import create_app
from agent_monitor.ingest.call_audio import CallAudio, load_call_audio
from agent_monitor.model.roles import Role
from agent_monitor.settings import Settings
from agent_monitor.storage import repo
from tests.web.browser_support import launch_chromium
from tests.web.live_support import LiveServer
from tests.web.wall_browser_support import restartable_servers
from tests.web.wall_support import backends

MODEL = "vosk-model-small-en-us-0.15"
#: the live server's ingest token (machine clients) and its admin (the /ws/events listener)
INGEST_TOKEN = "live-test-ingest-token-0123456789"
ADMIN, ADMIN_PASSWORD = "live-admin", "live admin password"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory, base_settings: Settings) -> Iterator[LiveServer]:
    if not (base_settings.model_dir / MODEL).is_dir():
        pytest.fail(
            f"Vosk model {MODEL} not installed in {base_settings.model_dir} (agent-monitor models install)"
        )
    data = tmp_path_factory.mktemp("live") / "data"
    settings = base_settings.model_copy(
        update={
            "data_dir": data,
            "server": base_settings.server.model_copy(update={"port": 0, "audiosocket_port": 0}),
            "web": base_settings.web.model_copy(update={"ingest_token": SecretStr(INGEST_TOKEN)}),
        }
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws_max_size=1 << 20))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the live server did not start")
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    with app.state.services.db.session() as s:
        repo.create_user(s, ADMIN, hash_password(ADMIN_PASSWORD), Role.ADMIN)
    signed_in = httpx.post(url + "/api/auth/login", json={"username": ADMIN, "password": ADMIN_PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    cookie = f"am_session={signed_in.cookies['am_session']}"
    try:
        yield LiveServer(url, settings, app.state.services, INGEST_TOKEN, cookie)
    finally:
        server.should_exit = True
        thread.join(60)
        sock.close()


@pytest.fixture(scope="module")
def real_call(eval_data: Path) -> CallAudio:
    """The real two-party phone call of the shared data (8 kHz stereo)."""
    return load_call_audio(eval_data / "calls" / "spokenwoz" / "MUL1011.opus", 8000)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian Chromium (one per test module)."""
    yield from launch_chromium()


@pytest.fixture(params=backends())
def make_server(request: pytest.FixtureRequest, tmp_path: Path, base_settings: Settings) -> Iterator[Any]:
    """Starts wall servers (same port on a restart) on each backend; all are stopped at the end
    (:func:`tests.web.wall_browser_support.restartable_servers`)."""
    with restartable_servers(str(request.param), tmp_path, base_settings) as make:
        yield make
