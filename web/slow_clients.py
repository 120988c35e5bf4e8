"""A deadline for request headers (slow-loris): a connection that has not sent a whole request
head within ``timeout`` seconds of connecting (or of its previous response) is closed.

Uvicorn's keep-alive timeout covers an idle connection only until its first byte arrives; a
client trickling a header a byte at a time holds a connection (and a file descriptor) forever.
:func:`header_timeout_protocol` returns uvicorn's HTTP protocol (httptools) with that deadline.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


def header_timeout_protocol(timeout: float) -> type[HttpToolsProtocol]:
    """Uvicorn's ``http`` protocol class with a ``timeout``-second deadline for request heads."""

    class HeaderTimeoutProtocol(HttpToolsProtocol):
        _head_timer: asyncio.TimerHandle | None = None

        def _arm(self) -> None:
            self._disarm()
            self._head_timer = self.loop.call_later(timeout, self._head_timed_out)

        def _disarm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_timed_out(self) -> None:
            self._head_timer = None
            if not self.transport.is_closing():
                self.logger.info("%s: no complete request head within %g s; closed", self.client, timeout)
                self.transport.close()

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return HeaderTimeoutProtocol
