"""The gap and burst attacks of issue #15 item 1 against a real server process, and a sampler of
the server's resident memory and ``/healthz`` while they run (used by the tests and by
``benchmarks/attack_memory.py``)."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time

import httpx
from websockets.asyncio.client import connect

from tests.web.server_process import TOKEN, ServerProcess

MB = 1 << 20


class PeakRss:
    """Samples the server's RSS and /healthz in a thread."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.peak = 0
        self.health_failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        last_health = 0.0
        while not self._stop.is_set():
            self.peak = max(self.peak, self.server.rss_bytes())
            if time.monotonic() - last_health > 0.5:
                last_health = time.monotonic()
                try:
                    httpx.get(self.server.url + "/healthz", timeout=2).raise_for_status()
                except httpx.HTTPError:
                    self.health_failures += 1
            time.sleep(0.05)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def gap_attack(server: ServerProcess, stamp: str = "1000000000") -> str:
    sid = "MZ" + "0" * 32
    params = {"agent_id": "A-1", "token": TOKEN, "call_id": "gap-attack"}
    start = {
        "event": "start",
        "sequenceNumber": "1",
        "streamSid": sid,
        "start": {
            "streamSid": sid,
            "callSid": "CA" + "1" * 32,
            "tracks": ["inbound", "outbound"],
            "customParameters": params,
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        },
    }
    payload = base64.b64encode(b"\xff" * 160).decode()
    async with connect(server.ws + "/ws/twilio") as ws:
        await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        await ws.send(json.dumps(start))
        for seq, ts in enumerate(("0", stamp, "1000000020"), start=2):
            media = {"track": "inbound", "chunk": str(seq), "timestamp": ts, "payload": payload}
            await ws.send(json.dumps({"event": "media", "sequenceNumber": str(seq), "media": media}))
        await ws.send(json.dumps({"event": "stop", "sequenceNumber": "9", "stop": {}}))
        try:
            await asyncio.wait_for(ws.wait_closed(), 60)
        except TimeoutError:
            return "no close within 60 s"
        return f"closed {ws.close_code} {ws.close_reason!r}"


async def burst_attack(server: ServerProcess, seconds: float = 300.0) -> str:
    start = {"type": "start", "call_id": "burst-attack", "agent_id": "A-1", "sample_rate": 8000}
    frame = bytes(8000 * 2 * 2 // 50)  # 20 ms of stereo L16
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with connect(server.ws + "/ws/ingest", additional_headers=headers) as ws:
        await ws.send(json.dumps(start))
        await ws.recv()
        t0 = time.monotonic()
        for _ in range(int(seconds * 50)):
            await ws.send(frame)
        sent_in = time.monotonic() - t0
        await ws.send(json.dumps({"type": "stop"}))
        reply = await asyncio.wait_for(ws.recv(), 120)
        return f"{seconds:g} s sent in {sent_in:.2f} s; {str(reply)[:200]}"
