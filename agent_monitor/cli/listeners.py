"""The listening sockets of ``serve``, bound before anything heavy is opened.

uvicorn binds the HTTP port only after the application's startup (database, speech models), and
the AudioSocket listener is opened inside that startup: a port that another process held failed
after all of it, with a one-line uvicorn error for the HTTP port and the whole lifespan traceback
for the AudioSocket port. ``serve`` binds both here first and hands the sockets over
(``uvicorn.Server.run(sockets=...)``, :func:`agent_monitor.compose.create_app`), so such a port
fails at once with one line that names it and the setting to change (:class:`ListenError`, exit
status 3 as before), and no other process can take it while the models load.
"""

from __future__ import annotations

import errno
import socket

from agent_monitor.errors import ListenError
from agent_monitor.settings import Settings
from web.app import audiosocket_port

#: uvicorn's default listen backlog (``uvicorn.Config.backlog``)
HTTP_BACKLOG = 2048
#: asyncio's default listen backlog (``loop.create_server``), which the AudioSocket listener had
AUDIOSOCKET_BACKLOG = 100
#: ``serve``'s listening sockets: HTTP, and AudioSocket (``None`` where it does not listen)
ServePorts = tuple[list[socket.socket], list[socket.socket] | None]


def bind_listeners(host: str, port: int, what: str, setting: str, backlog: int) -> list[socket.socket]:
    """Listening TCP sockets on ``port`` of every address of ``host`` (every interface for
    ``""``), bound as asyncio's ``create_server`` binds them (``SO_REUSEADDR``, IPv6 sockets
    IPv6 only); a port that cannot be bound is a :class:`ListenError` naming ``what`` it is for
    and the ``setting`` that chooses it."""
    sockets: list[socket.socket] = []
    try:
        found = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        for family, kind, proto, _name, address in dict.fromkeys(found):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(backlog)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise ListenError(_problem(host, port, what, setting, exc)) from None
    return sockets


def _problem(host: str, port: int, what: str, setting: str, exc: OSError) -> str:
    where = f"cannot listen for {what} on {host or '*'}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return f"{where}: the port is in use by another process; stop it, or set another port with {setting}"
    return f"{where}: {exc.strerror or exc}; check server.host and {setting}"


def bind_serve_ports(settings: Settings) -> ServePorts:
    """The listening sockets of ``serve`` (and ``demo``) with ``settings``."""
    server = settings.server
    http = bind_listeners(server.host, server.port, "HTTP", "server.port (--port)", HTTP_BACKLOG)
    port = audiosocket_port(settings)
    if port is None:
        return http, None
    try:
        audiosocket = bind_listeners(
            server.host,
            port,
            "AudioSocket",
            "server.audiosocket_port (--audiosocket-port, or 'off')",
            AUDIOSOCKET_BACKLOG,
        )
    except ListenError:
        for sock in http:
            sock.close()
        raise
    return http, audiosocket
