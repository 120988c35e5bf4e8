"""``?since=`` on the event websockets of a single node (in-process bus): refused with a reason,
never a server error (the floor's resume itself is tested in ``test_floor.py``)."""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.web.live_support import LiveServer


@pytest.mark.parametrize("path", ["/ws/events", "/ws/ui/live"])
def test_since_without_an_event_stream_is_refused(live_server: LiveServer, path: str) -> None:
    headers = {"Cookie": live_server.cookie, "Origin": live_server.url}
    with connect(f"{live_server.ws}{path}?since=1733000000000-0", additional_headers=headers) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "subscribed"
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    assert "no event stream" in closed.value.rcvd.reason
