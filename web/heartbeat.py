"""One writer per websocket, and the heartbeat that goes through it.

Events and pings are sent from two tasks; :class:`Sender` sends one frame at a time so that they
never interleave. :meth:`Sender.heartbeat` sends ``{"type": "ping"}`` every ``every_s`` seconds
until cancelled; a failed send (the client is gone) calls ``stop``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from fastapi import WebSocket
from starlette.websockets import WebSocketDisconnect

log = logging.getLogger(__name__)

PING = '{"type":"ping"}'


class Sender:
    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self._lock = asyncio.Lock()

    async def send_text(self, text: str) -> None:
        async with self._lock:
            await self.websocket.send_text(text)

    async def heartbeat(self, every_s: float, stop: Callable[[], None]) -> None:
        try:
            while True:
                await asyncio.sleep(every_s)
                await self.send_text(PING)
        except (WebSocketDisconnect, RuntimeError, OSError) as exc:
            log.info("heartbeat stopped: %r", exc)
            stop()
