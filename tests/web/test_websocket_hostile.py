"""Hostile websocket addresses on both databases: a U+0000 (NUL) in the path or query of a
websocket is refused before the socket is accepted (1008, the handshake answered 403), as an HTTP
request's is answered 422; ``/ws/listen/a%00b`` was a 500 on PostgreSQL (the call's look-up)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from agent_monitor.settings import Settings
from tests.web.backend_support import BACKENDS, ui_server_on
from tests.web.ui_support import login


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_nul_in_a_websocket_address_is_refused_on_both_databases(
    backend: str, base_settings: Settings, tmp_path: Path
) -> None:
    with ui_server_on(backend, base_settings, tmp_path) as (url, _app), httpx.Client(base_url=url) as c:
        login(c, "admin1")
        headers = {"Cookie": f"am_session={c.cookies['am_session']}", "Origin": url}
        ws_url = url.replace("http://", "ws://")
        for path in ("/ws/listen/a%00b", "/ws/ui/live?call_id=a%00b", "/ws/events?agent_id=%00"):
            with pytest.raises(InvalidStatus) as refused:
                connect(ws_url + path, additional_headers=headers, open_timeout=10).close()
            assert refused.value.response.status_code == 403, (path, refused.value.response.status_code)
        with connect(ws_url + "/ws/ui/live?call_id=ab", additional_headers=headers, open_timeout=10) as ws:
            assert '"subscribed"' in str(ws.recv(timeout=10))  # nothing else is refused
