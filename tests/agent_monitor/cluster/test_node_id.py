"""One process per node id on a floor (:mod:`agent_monitor.cluster.node_id`), on a real
``redis-server``: a start under the id of a node that beats (the registry's own beat, every 0.1 s)
fails with one line; one after a previous process's presence waits for it to expire; a free id, a
web node and an unreachable Redis start at once."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
import redis
import redis.asyncio as aioredis

from agent_monitor.cluster.node_id import check_node_id_free
from agent_monitor.cluster.registry import CallRegistry
from agent_monitor.errors import NodeIdInUseError
from agent_monitor.settings import ClusterSettings, Settings
from tests.redis_support import RedisServer, free_port


def _floor(settings: Settings, url: str, role: str = "analysis") -> Settings:
    cluster = ClusterSettings(
        redis_url=url, prefix="t", node_id="node-a", role=role, heartbeat_s=0.2, node_ttl_s=0.6
    )
    return settings.model_copy(update={"cluster": cluster})


async def _beating(cluster: ClusterSettings, stop: asyncio.Event) -> None:
    """node-a running: its registry's beat every ``cluster.heartbeat_s`` until ``stop``."""
    client = aioredis.from_url(str(cluster.redis_url))
    registry = CallRegistry(client, cluster, "node-a")
    try:
        while not stop.is_set():
            await registry.beat([])
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), cluster.heartbeat_s)
    finally:
        await client.aclose()


def _refused_beside(running: ClusterSettings, starting: Settings) -> str:
    """The check of ``starting`` while node-a beats with ``running``: its error's line."""

    async def run() -> str:
        stop = asyncio.Event()
        beat = asyncio.create_task(_beating(running, stop))
        await asyncio.sleep(0.3)
        try:
            with pytest.raises(NodeIdInUseError) as err:
                await asyncio.to_thread(check_node_id_free, starting)
        finally:
            stop.set()
            await beat
        return str(err.value)

    return asyncio.run(run())


def test_a_start_under_a_running_nodes_id_fails(settings: Settings, redis_server: RedisServer) -> None:
    floor = _floor(settings, redis_server.url)
    running = floor.cluster.model_copy(update={"heartbeat_s": 0.1})
    assert _refused_beside(running, floor) == (
        "node id 'node-a' is in use by a running node (its presence in Redis is renewed): "
        "give each node its own cluster.node_id"
    )


def test_a_running_node_that_beats_slower_than_this_one_is_seen(
    settings: Settings, redis_server: RedisServer
) -> None:
    """node-a runs with its own settings (a beat every 1.0 s, ``node_ttl_s`` 3): this node's check
    (0.2 s / 0.6 s) waits out the key's remaining time, not its own ``node_ttl_s``, and sees the
    renewal."""
    floor = _floor(settings, redis_server.url)
    slow = floor.cluster.model_copy(update={"heartbeat_s": 1.0, "node_ttl_s": 3.0})
    assert "is in use by a running node" in _refused_beside(slow, floor)


def test_a_start_after_a_previous_process_waits_for_its_presence(
    settings: Settings, redis_server: RedisServer
) -> None:
    floor = _floor(settings, redis_server.url)
    with redis.Redis.from_url(redis_server.url) as client:
        client.set("t:node:node-a", str(time.time()), px=600)  # its last beat, then it was killed
    t0 = time.monotonic()
    said = check_node_id_free(floor)
    waited = time.monotonic() - t0
    assert said == "waited for node id 'node-a''s previous process's presence to expire"
    assert 0.4 < waited < 2.0, waited  # until the key expired (0.6 s after the beat)


def test_a_free_id_a_web_node_and_no_redis_start_at_once(
    settings: Settings, redis_server: RedisServer
) -> None:
    naps: list[float] = []
    assert check_node_id_free(_floor(settings, redis_server.url), naps.append) is None  # no presence
    with redis.Redis.from_url(redis_server.url) as client:
        client.set("t:node:node-a", str(time.time()), px=60_000)  # a running node-a
    assert check_node_id_free(_floor(settings, redis_server.url, "web"), naps.append) is None
    gone = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    said = check_node_id_free(_floor(settings, gone), naps.append)
    assert said is not None and said.startswith("could not check that node id 'node-a' is free (Redis: ")
    assert said.endswith("); starting") and naps == []
