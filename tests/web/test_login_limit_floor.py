"""The login limits of a floor (:mod:`web.auth.floor_limit`) on a real ``redis-server``: two nodes'
limits count one user's failures together (the sixth is refused on either), a success takes the
user's back, the per-address limit holds over users and nodes, parallel attempts get no more
through, and with Redis unreachable each node counts on its own."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from tests.redis_support import RedisServer, free_port
from web.auth.floor_limit import Attempt, LoginLimits
from web.auth.ratelimit import LoginLimiter


@pytest.fixture()
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path / "redis") as server:
        yield server


def _node() -> LoginLimits:
    """One node's limits at the default settings (5 per user and address, 20 per address, 60 s)."""
    return LoginLimits(LoginLimiter(5, 20, 60.0), "t")


async def _floor(url: str) -> None:
    client = aioredis.from_url(url)
    a, b = _node(), _node()
    try:
        tries = [await (a if i % 2 else b).reserve(client, "Mallory", "10.0.0.9") for i in range(5)]
        assert all(t.wait == 0 and t.member is not None for t in tries)
        for node in (a, b):  # the sixth, on either node: refused for the rest of the minute
            refused = await node.reserve(client, "mallory", "10.0.0.9")
            assert 55 < refused.wait <= 60 and refused.member is None
        assert (await a.reserve(client, "mallory", "10.0.0.10")).wait == 0  # another address
        ok = await b.reserve(client, "sam", "10.0.0.11")
        await a.succeeded(client, "sam", "10.0.0.11", ok)  # signed in: nothing of sam's left
        assert await client.exists('t:login:user:["sam", "10.0.0.11"]') == 0
        assert await client.zcard("t:login:ip:10.0.0.11") == 0
        spray = [await (a if i % 2 else b).reserve(client, f"user{i}", "10.0.0.12") for i in range(20)]
        assert all(t.wait == 0 for t in spray)
        assert (await a.reserve(client, "user99", "10.0.0.12")).wait > 0  # 20 per address
        burst = await asyncio.gather(*(n.reserve(client, "eve", "10.0.0.13") for n in (a, b) * 6))
        assert sum(t.wait == 0 for t in burst) == 5  # parallel guesses on two nodes: 5 through
    finally:
        await client.aclose()


def test_the_nodes_of_a_floor_count_failures_together(redis_server: RedisServer) -> None:
    asyncio.run(_floor(redis_server.url))


async def _unreachable() -> None:
    client = aioredis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1.0)
    node = _node()
    try:
        tries = [await node.reserve(client, "mallory", "10.0.0.9") for _ in range(5)]
        assert all(t.wait == 0 and t.stamp is not None and t.member is None for t in tries)
        assert (await node.reserve(client, "mallory", "10.0.0.9")).wait > 0  # counted here
        await node.succeeded(client, "mallory", "10.0.0.9", Attempt(0.0, stamp=tries[-1].stamp))
        assert (await node.reserve(client, "mallory", "10.0.0.9")).wait == 0
    finally:
        await client.aclose()


def test_a_node_counts_on_its_own_while_redis_is_unreachable() -> None:
    asyncio.run(_unreachable())
