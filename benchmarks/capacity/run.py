"""N calls streamed in real time against one or more nodes, measured.

Call i goes to node i mod (number of nodes) over ``/ws/ingest`` (16-bit PCM, 20 ms stereo frames),
started ``stagger_s`` after call i-1. Meanwhile each node's ``/ws/events`` is followed (agent
warnings and new alerts) and its ``/api/live`` polled every 0.5 s (each call's recognition lag and
dropped audio), and the nodes' process trees' CPU and memory are read.

Alert latency: from the end of each spliced violation's speech (placed on the wall clock by the
sender's schedule) to the arrival of the first ``agent_warning`` and of the first ``alert_raised``
whose call time falls in that violation's window.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any

import httpx

from agent_monitor.errors import StreamingClientError
from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.ingest.client import StreamResult, stream_ingest
from benchmarks.capacity.keepup import (
    ALERT_TYPES,
    MAX_LAG_S,
    RunResult,
    lane_delta,
    split_round_robin,
    thread_shares,
)
from benchmarks.capacity.server import Node, tree_cpu_s


async def get_json(node: Node, path: str, *, post: bool = False) -> Any:
    async with httpx.AsyncClient(timeout=5, headers={"Cookie": node.cookie}) as client:
        if post:
            reply = await client.post(node.url + path, headers={"X-CSRF-Token": node.csrf})
        else:
            reply = await client.get(node.url + path)
        reply.raise_for_status()
        return reply.json()


async def follow(node: Node, arrivals: list[tuple[float, dict[str, Any]]], ready: asyncio.Event) -> None:
    from websockets.asyncio.client import connect

    url = node.url.replace("http://", "ws://") + "/ws/events?types=" + ",".join(ALERT_TYPES)
    async with connect(url, additional_headers={"Cookie": node.cookie}, max_size=None) as ws:
        async for message in ws:
            data = json.loads(message)
            if data.get("type") == "subscribed":
                ready.set()
            else:
                arrivals.append((time.time(), data))


async def poll(nodes: list[Node], result: RunResult, stop: asyncio.Event) -> None:
    """Every 0.5 s until ``stop``: each call's lag and dropped chunks, the nodes' RSS."""
    while not stop.is_set():
        for node in nodes:
            try:
                live = await get_json(node, "/api/live")
            except httpx.HTTPError:
                continue
            for call in live["calls"]:
                cid, lag = call["call_id"], float(call["lag_s"])
                result.max_lag[cid] = max(result.max_lag.get(cid, 0.0), lag)
                result.lag_samples.append(lag)
                legs = call["stats"]["legs"].values()
                if lag >= MAX_LAG_S:
                    result.lag_events.append((cid, max(leg["received_s"] for leg in legs), lag))
                dropped = sum(int(leg["dropped_chunks"]) for leg in legs)
                result.dropped[cid] = max(result.dropped.get(cid, 0), dropped)
        result.rss_peak_mib = max(result.rss_peak_mib, sum(n.rss_mib() for n in nodes))
        await asyncio.sleep(0.5)


async def stream_one(node: Node, audio: CallAudio, call_id: str, delay_s: float) -> StreamResult:
    await asyncio.sleep(delay_s)
    start = {"call_id": call_id, "agent_id": f"agent-{call_id}", "lang": "en"}
    try:
        return await stream_ingest(node.url, audio, start, token=node.token)
    except StreamingClientError as exc:  # refused or unreachable: a failed stream, not a crash
        return StreamResult(call_id, close_code=None, close_reason=str(exc))


async def run_calls(
    nodes: list[Node],
    calls: list[CallAudio],
    tag: str,
    stagger_s: float = 0.25,
    others: dict[str, int] | None = None,
) -> RunResult:
    """Stream ``calls`` concurrently (split over ``nodes``) and measure the run; ``others``: the
    pids (by name) of other processes sharing the cores whose CPU to measure too (redis-server);
    the benchmark client's own CPU (this process) is always measured."""
    n = len(calls)
    result = RunResult(n, leg_seconds=sum(2 * c.duration for c in calls))
    ids = [f"bench-{tag}-{n}-{i}" for i in range(n)]
    where = [nodes[k] for k in split_round_robin(n, len(nodes))]
    arrivals: list[tuple[float, dict[str, Any]]] = []
    readies = [asyncio.Event() for _ in nodes]
    followers = [
        asyncio.create_task(follow(node, arrivals, ready)) for node, ready in zip(nodes, readies, strict=True)
    ]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 30)
    result.rss_idle_mib = result.rss_peak_mib = sum(node.rss_mib() for node in nodes)
    before = [await get_json(node, "/api/metrics/reset", post=True) for node in nodes]
    stop = asyncio.Event()
    cpu0, wall0, threads0 = sum(node.cpu_s() for node in nodes), time.monotonic(), nodes[0].threads()
    others0 = {name: tree_cpu_s(pid) for name, pid in (others or {}).items()} | {
        "client": time.process_time()
    }
    poller = asyncio.create_task(poll(nodes, result, stop))
    streams = await asyncio.gather(*(stream_one(where[i], calls[i], ids[i], stagger_s * i) for i in range(n)))
    result.cpu_s = sum(node.cpu_s() for node in nodes) - cpu0
    result.wall_s = time.monotonic() - wall0
    result.others_cpu_s = {"client": time.process_time() - others0.pop("client")}
    result.others_cpu_s |= {name: tree_cpu_s((others or {})[name]) - c for name, c in others0.items()}
    result.threads = thread_shares(threads0, nodes[0].threads(), result.wall_s, nodes[0].pid)
    stop.set()
    await poller
    after = [await get_json(node, "/api/metrics") for node in nodes]
    result.loop_lag = worst_loop_lag(after)
    result.lanes = lane_delta(before, after)
    await asyncio.sleep(1.0)
    for task in followers:
        task.cancel()
    await asyncio.gather(*followers, return_exceptions=True)
    for cid, stream, audio in zip(ids, streams, calls, strict=True):
        if stream.close_code != 1000:
            result.failed_streams.append(f"{cid}: {stream.close_code} {stream.close_reason}")
        score_alerts(result, stream, audio, [(t, e) for t, e in arrivals if e.get("call_id") == cid])
    return result


async def wait_idle(node: Node, timeout_s: float = 300.0) -> None:
    """Until ``node`` has no live call (the calls before have been fully processed and closed)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not (await get_json(node, "/api/live"))["calls"]:
            return
        await asyncio.sleep(0.5)
    raise RuntimeError(f"{node.url} still has live calls after {timeout_s:g} s")


def worst_loop_lag(metrics: list[dict[str, Any]]) -> dict[str, Any]:
    """The event-loop lag of the node with the worst p99."""
    lags = [m.get("loop_lag", {}) for m in metrics]
    return max(lags, key=lambda lag: lag.get("p99_ms", 0.0), default={})


def score_alerts(
    result: RunResult, stream: StreamResult, audio: CallAudio, mine: list[tuple[float, dict[str, Any]]]
) -> None:
    """Latency from the end of each spliced violation to its first alert of each kind, or a miss."""
    for splice in audio.splices:
        spoken_end_wall = stream.started_wall + splice.speech_end_s
        for kind in ALERT_TYPES:
            hits = [
                t
                for t, e in mine
                if e["type"] == kind and splice.start_s - 0.5 <= e["t"] <= splice.speech_end_s + 1.5
            ]
            if hits:
                result.latencies[kind].append(min(hits) - spoken_end_wall)
            else:
                result.missed[kind] += 1
                if os.environ.get("BENCH_VERBOSE"):
                    print(f"     no {kind} for {stream.call_id} {splice.text!r}")
