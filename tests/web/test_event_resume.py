"""``?since=`` on the event websockets of a single node (in-process bus): refused with a reason,
never a server error (the floor's resume itself is tested in ``test_floor.py``); so is a
``?types=`` list too long for a close frame's reason."""

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


def test_a_long_list_of_unknown_event_types_is_refused_with_a_reason(live_server: LiveServer) -> None:
    """A close frame holds at most 123 bytes of reason: the reason naming 30 unknown types did not
    fit, the close failed with a traceback in the server's log and the client got no close code."""
    headers = {"Cookie": live_server.cookie, "Origin": live_server.url}
    types = ",".join(f"unknown-type-{i}" for i in range(30))
    url = f"{live_server.ws}/ws/events?types={types}"
    with connect(url, additional_headers=headers) as ws, pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008, closed.value
    reason = closed.value.rcvd.reason
    assert reason.startswith("unknown event types: unknown-type-0") and len(reason.encode()) <= 123, reason
