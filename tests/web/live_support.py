"""Helpers of the live-server tests: the server handle and an /ws/events collector."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass
from typing import Any

from agent_monitor.settings import Settings
from web.services import Services


@dataclass
class LiveServer:
    url: str
    settings: Settings
    services: Services
    #: the ingest token machine clients send, and a signed-in admin's session cookie
    token: str = ""
    cookie: str = ""

    @property
    def ws(self) -> str:
        return self.url.replace("http://", "ws://")


class EventCollector:
    """Events of ``/ws/events`` collected in the background, each with its arrival time."""

    def __init__(self, url: str, cookie: str | None = None) -> None:
        self.url = url
        self.cookie = cookie
        self.events: list[tuple[float, dict[str, Any]]] = []
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def __aenter__(self) -> EventCollector:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self._ready.wait(), 10)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        from websockets.asyncio.client import connect

        headers = {"Cookie": self.cookie} if self.cookie else None
        async with connect(self.url, additional_headers=headers) as ws:
            async for message in ws:
                data = json.loads(message)
                if data["type"] == "subscribed":
                    self._ready.set()
                    continue
                self.events.append((time.time(), data))

    def of(self, call_id: str, type_: str | None = None) -> list[dict[str, Any]]:
        return [
            e for _, e in self.events if e["call_id"] == call_id and (type_ is None or e["type"] == type_)
        ]

    async def wait_for(self, call_id: str, type_: str, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.of(call_id, type_)
            if found:
                return found[0]
            await asyncio.sleep(0.05)
        raise AssertionError(
            f"no {type_} event for {call_id} within {timeout} s; got {[e['type'] for e in self.of(call_id)]}"
        )
