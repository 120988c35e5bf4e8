"""``replay``/``capture --server URL``: the URL the client streams to and asks for languages
(agent_monitor/ingest/server_languages.py, client.py)."""

from __future__ import annotations

import pytest

from agent_monitor.cli import main
from agent_monitor.errors import ConfigError
from agent_monitor.ingest.client import ws_url
from agent_monitor.ingest.server_languages import http_url


@pytest.mark.parametrize(
    ("server", "ws", "http"),
    [
        ("127.0.0.1:8000", "ws://127.0.0.1:8000/p", "http://127.0.0.1:8000/p"),
        ("http://h:1/", "ws://h:1/p", "http://h:1/p"),
        ("HTTPS://h", "wss://h/p", "https://h/p"),
        ("ws://h:2", "ws://h:2/p", "http://h:2/p"),
        ("wss://h/base/", "wss://h/base/p", "https://h/base/p"),
        ("[::1]:80", "ws://[::1]:80/p", "http://[::1]:80/p"),
    ],
)
def test_a_server_url_becomes_the_websocket_and_http_url(server: str, ws: str, http: str) -> None:
    assert ws_url(server, "/p") == ws and http_url(server, "/p") == http


@pytest.mark.parametrize(
    ("server", "problem"),
    [
        ("ftp://x", "the scheme must be http, https, ws or wss, not 'ftp'"),
        ("file:///tmp/x", "the scheme must be http, https, ws or wss, not 'file'"),
        ("http://", "no host (e.g. http://127.0.0.1:8000)"),
        ("ws:///ws", "no host (e.g. http://127.0.0.1:8000)"),
    ],
)
def test_a_server_url_of_another_scheme_or_without_a_host_is_refused(server: str, problem: str) -> None:
    """`--server ftp://x` was streamed to ``ws://ftp://x/ws/ingest`` (a connection error about
    a host named "ftp"); now refused as it is, before anything connects."""
    for build in (ws_url, http_url):
        with pytest.raises(ConfigError) as refused:
            build(server, "/ws/ingest")
        assert str(refused.value) == f"server URL {server!r}: {problem}"


@pytest.mark.parametrize("command", ["replay", "capture"])
def test_replay_and_capture_refuse_the_server_url_in_one_line_first(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Refused before the audio file is read (it does not exist here) or a device is opened."""
    argv = [command, *(["/no/such/call.wav"] if command == "replay" else []), "--server", "ftp://x"]
    assert main(argv) == 1
    out = capsys.readouterr()
    assert out.err == (
        "agent-monitor: error: server URL 'ftp://x': the scheme must be http, https, ws or wss, not 'ftp'\n"
    )
    assert out.out == ""
