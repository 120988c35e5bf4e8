"""Stream the assembled calls concurrently into the server and record what comes back.

At most ``concurrency`` calls are live at once (a finished call's slot goes to the next one; the
first calls start 0.25 s apart). Each call is sent over ``/ws/ingest`` at ``speed`` times real
time with its line's wire encoding. Meanwhile ``/ws/events`` is followed as the signed-in admin
(rule hits, agent warnings, transcripts, signal health; each event with its arrival time) and ``/api/live`` is
polled every 0.5 s for each call's recognition lag and dropped audio.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from agent_monitor.evaluation.live.assemble import LiveCall
from agent_monitor.evaluation.live.server import Server
from agent_monitor.ingest.client import StreamResult, stream_ingest

EVENT_TYPES = ("rule_hit", "agent_warning", "transcript", "signal_health")


@dataclass
class RunLog:
    """What a run produced: per call the stream result, and every event with its arrival time."""

    streams: dict[str, StreamResult] = field(default_factory=dict)
    events: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    max_lag_s: dict[str, float] = field(default_factory=dict)
    dropped_chunks: dict[str, int] = field(default_factory=dict)
    #: the server's CPU seconds (all threads) per wall second over the run
    server_cpu: float = 0.0
    wall_s: float = 0.0

    def events_of(self, call_id: str) -> list[tuple[float, dict[str, Any]]]:
        return [(t, e) for t, e in self.events if e.get("call_id") == call_id]


def proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _follow_events(server: Server, log: RunLog, ready: asyncio.Event) -> None:
    from websockets.asyncio.client import connect

    url = server.ws + "/ws/events?types=" + ",".join(EVENT_TYPES)
    async with connect(url, additional_headers={"Cookie": server.cookie}, max_size=None) as ws:
        async for message in ws:
            data = json.loads(message)
            if data.get("type") == "subscribed":
                ready.set()
                continue
            log.events.append((time.time(), data))


async def _poll_live(server: Server, log: RunLog) -> None:
    async with httpx.AsyncClient(timeout=5, headers={"Cookie": server.cookie}) as client:
        while True:
            with contextlib.suppress(httpx.HTTPError):
                reply = await client.get(server.url + "/api/live")
                for call in reply.json().get("calls", []):
                    cid = call["call_id"]
                    log.max_lag_s[cid] = max(log.max_lag_s.get(cid, 0.0), float(call["lag_s"]))
                    legs = call["stats"]["legs"].values()
                    dropped = sum(int(leg["dropped_chunks"]) for leg in legs)
                    log.dropped_chunks[cid] = max(log.dropped_chunks.get(cid, 0), dropped)
            await asyncio.sleep(0.5)


async def _stream(server: Server, call: LiveCall, speed: float) -> StreamResult:
    start = {"call_id": call.dialogue.call_id, "agent_id": "eval-agent", "lang": "en"}
    return await stream_ingest(
        server.url, call.audio, start, speed=speed, encoding=call.encoding, token=server.token
    )


async def run_calls(server: Server, calls: list[LiveCall], *, concurrency: int, speed: float) -> RunLog:
    """Stream ``calls`` (at most ``concurrency`` at once) and collect the events they raise."""
    log = RunLog()
    ready = asyncio.Event()
    follower = asyncio.create_task(_follow_events(server, log, ready))
    await asyncio.wait_for(ready.wait(), 30)
    poller = asyncio.create_task(_poll_live(server, log))
    slots = asyncio.Semaphore(concurrency)
    cpu0, wall0 = proc_cpu_s(server.pid), time.monotonic()

    async def one(i: int, call: LiveCall) -> None:
        async with slots:
            if i < concurrency:
                await asyncio.sleep(0.25 * i)
            log.streams[call.dialogue.call_id] = await _stream(server, call, speed)

    try:
        await asyncio.gather(*(one(i, c) for i, c in enumerate(calls)))
        await asyncio.sleep(2.0)  # the last events of the last calls
    finally:
        log.wall_s = time.monotonic() - wall0
        log.server_cpu = (proc_cpu_s(server.pid) - cpu0) / max(log.wall_s, 1e-9)
        for task in (poller, follower):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    return log
