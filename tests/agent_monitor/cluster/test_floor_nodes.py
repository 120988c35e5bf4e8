"""The floor's nodes as a call's opening asks for them (``CallRegistry.nodes_present``), on a
real ``redis-server``: the nodes whose presence is current, not one whose presence expired, not
another floor's (a prefix with a glob character is matched as written), and None while Redis
cannot be asked; asked without scanning the keyspace (a Redis shared with other data), and a node
that predates the set of nodes seen by its registry entries."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import redis.asyncio as aioredis

from agent_monitor.cluster.registry import CallRegistry
from agent_monitor.model.session import CallInfo
from agent_monitor.settings import ClusterSettings
from tests.agent_monitor.cluster.registry_support import Held
from tests.redis_support import RedisServer


def _registry(server: RedisServer, prefix: str, node: str) -> CallRegistry:
    settings = ClusterSettings(redis_url=server.url, prefix=prefix, heartbeat_s=0.2, node_ttl_s=0.6)
    return CallRegistry(aioredis.from_url(server.url), settings, node)


def test_the_nodes_present_are_those_that_beat(redis_server: RedisServer) -> None:
    async def run() -> None:
        a, b = _registry(redis_server, "t*", "a"), _registry(redis_server, "t*", "b")
        other = _registry(redis_server, "t", "x")  # "t*:node:*" unescaped would match its key
        try:
            for registry in (a, b, other):
                await registry.beat([])
            assert await a.nodes_present() == {"a", "b"}
            assert await other.nodes_present() == {"x"}
            await asyncio.sleep(0.4)
            await a.beat([])
            await asyncio.sleep(0.4)  # b's presence (0.6 s) has expired, a's not
            assert await a.nodes_present() == {"a"}
            redis_server.stop()
            assert await a.nodes_present() is None
        finally:
            for registry in (a, b, other):
                await registry.redis.aclose()

    asyncio.run(run())


async def _scans(client: Any) -> int:
    stats = await client.info("commandstats")
    return int(stats.get("cmdstat_scan", {}).get("calls", 0))


def test_the_nodes_are_asked_without_a_scan_of_the_keyspace(redis_server: RedisServer) -> None:
    """On a Redis holding 20,000 other keys: no ``SCAN`` (it walks the whole keyspace on every
    call's opening); a node gone is dropped from the set of nodes; a node from before the set was
    kept (presence and a registry entry, no member) is present once the registry was read."""

    async def run() -> None:
        a, b, gone = (_registry(redis_server, "f", n) for n in ("a", "b", "gone"))
        try:
            async with a.redis.pipeline(transaction=False) as pipe:
                for i in range(20_000):
                    pipe.set(f"app:session:{i}", "x")
                await pipe.execute()
            for registry in (a, b, gone):
                await registry.beat([])
            await asyncio.sleep(0.4)
            await a.beat([])
            await b.beat([])
            await asyncio.sleep(0.4)  # gone's presence (0.6 s) has expired
            before = await _scans(a.redis)
            assert await a.nodes_present() == {"a", "b"}
            assert await _scans(a.redis) == before
            assert await a.redis.smembers(a.nodes_key) == {b"a", b"b"}  # gone dropped
            entry: dict[str, Any] = {"node": "old", "instance": "", "info": CallInfo("o1", "A-1").to_dict()}
            entry |= {"stats": Held(CallInfo("o1", "A-1")).stats.to_dict(), "at": time.time()}
            await a.redis.hset(a.calls_key, "o1", json.dumps(entry))
            await a.redis.set(a.presence_key("old"), "1", px=5000)  # an older node: no member
            assert await a.nodes_present() == {"a", "b"}  # not yet read
            await a.read()
            assert await a.nodes_present() == {"a", "b", "old"}
        finally:
            for registry in (a, b, gone):
                await registry.redis.aclose()

    asyncio.run(run())
