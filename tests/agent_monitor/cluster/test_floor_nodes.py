"""The floor's nodes as a call's opening asks for them (``CallRegistry.nodes_present``), on a
real ``redis-server``: the nodes whose presence is current, not one whose presence expired, not
another floor's (a prefix with a glob character is matched as written), and None while Redis
cannot be asked."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from agent_monitor.cluster.registry import CallRegistry
from agent_monitor.settings import ClusterSettings
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
