"""A Redis outage is not a node's death: the registry on a real ``redis-server`` that is stopped and
started again (its append-only file keeps the calls hash; the nodes' presence keys expire while it
is down, as on a production Redis restarted or cut off for longer than ``node_ttl_s``). A node
whose watch comes back before a live node's next beat must not take that node for dead: it reaps
nothing until it has watched the floor for ``node_ttl_s`` without a break, then reaps the nodes
still absent (a node that died during the outage). A Redis restored from an older snapshot also
puts back the entries of calls that ended since: the node that held them removes them."""

from __future__ import annotations

import asyncio

import pytest
from redis.exceptions import RedisError
from redis.typing import EncodableT, FieldT

from agent_monitor.cluster.keeper import NodeKeeper
from agent_monitor.cluster.registry import FloorCalls
from agent_monitor.model.events import CallEnded
from agent_monitor.model.session import CallInfo
from agent_monitor.storage import CallStatus, Database
from tests.agent_monitor.cluster.registry_support import Held, Node, close_all, keeper, start_row, status
from tests.redis_support import RedisServer


async def _outage(redis_server: RedisServer, *watchers: NodeKeeper) -> None:
    """Redis down for 0.8 s (longer than ``node_ttl_s`` 0.6: every presence key expires) while the
    watchers' rounds fail, then up again with what its append-only file kept."""
    redis_server.stop()
    for watcher in watchers:
        with pytest.raises((RedisError, OSError)):
            await watcher.watch()  # the round of its watch task fails
    await asyncio.sleep(0.8)
    redis_server.start()


async def _test_a_live_nodes_calls_outlive_a_redis_restart(redis_server: RedisServer, db: Database) -> None:
    a_calls, b_calls = Node(), Node()
    a = keeper(redis_server, db, "a", a_calls)
    b = keeper(redis_server, db, "b", b_calls)
    info = CallInfo("goes-on", "agent-1")
    start_row(db, info, a)
    a_calls.calls["goes-on"] = Held(info)
    await a.once()
    await b.once()
    sub = b.bus.subscribe()
    await _outage(redis_server, a, b)
    assert await b.registry.redis.exists("t:node:a") == 0  # a's presence expired meanwhile
    assert await b.registry.redis.hexists("t:calls", "goes-on")  # its call's entry was kept
    await b.once()  # b's watch comes back first
    await a.once()
    for _ in range(4):  # b watches for 0.8 s more: a beats again
        await asyncio.sleep(0.2)
        await asyncio.gather(a.once(), b.once())
    assert b.reaped == [] and status(db, "goes-on") is CallStatus.LIVE
    assert list(iter(sub.get_nowait, None)) == []  # no wall told the call ended
    assert b.registry.calls["goes-on"].node == "a"


async def _test_a_node_that_died_in_the_outage_is_reaped_after_it(
    redis_server: RedisServer, db: Database
) -> None:
    dying, b_calls = Node(), Node()
    dead = keeper(redis_server, db, "dead", dying)
    b = keeper(redis_server, db, "b", b_calls)
    info = CallInfo("orphan", "agent-1")
    start_row(db, info, dead)
    dying.calls["orphan"] = Held(info)
    await dead.once()
    await b.once()
    sub = b.bus.subscribe()
    await _outage(redis_server, b)  # the dead node never comes back
    await b.once()
    assert b.reaped == [] and status(db, "orphan") is CallStatus.LIVE  # not yet: just back
    for _ in range(5):  # 1.0 s of watching without a break (node_ttl_s 0.6)
        await asyncio.sleep(0.2)
        await b.once()
    assert b.reaped == ["orphan"] and status(db, "orphan") is CallStatus.ABORTED
    ended = list(iter(sub.get_nowait, None))
    assert [e.call_id for e in ended] == ["orphan"] and isinstance(ended[0], CallEnded)


async def _test_an_ended_call_put_back_by_an_older_snapshot_is_removed(
    redis_server: RedisServer, db: Database
) -> None:
    """The calls hash as an older snapshot holds it (written back here: a snapshot taken before
    the call ended, as a Redis restarted from its last save loads it) lists a call node a ended
    since. No beat of a removed it (a beat removes what its own previous beat wrote), so every
    wall showed it live for ever; a's next watch removes it, and only it."""
    a_calls, web_calls = Node(), Node()
    a = keeper(redis_server, db, "a", a_calls)
    web = keeper(redis_server, db, "web", web_calls, holds=False)
    for call_id in ("ended", "goes-on"):
        info = CallInfo(call_id, "agent-1")
        start_row(db, info, a)
        a_calls.calls[call_id] = Held(info)
    await a.once()
    redis = a.registry.redis
    snapshot: dict[FieldT, EncodableT] = {k: v for k, v in (await redis.hgetall("t:calls")).items()}
    del a_calls.calls["ended"]
    await a.once()
    await redis.hset("t:calls", mapping=snapshot)  # the older snapshot's calls hash
    await web.once()
    floor = FloorCalls(web_calls, web.registry)
    assert floor.get("ended") is not None  # the walls show it
    for _ in range(3):
        await a.once()
        await web.once()
    assert floor.get("ended") is None and floor.get("goes-on") is not None
    assert sorted(a.registry.calls) == sorted(web.registry.calls) == ["goes-on"]
    assert a.reaped == web.reaped == []


@pytest.mark.asyncio
async def test_a_live_nodes_calls_outlive_a_redis_restart(redis_server: RedisServer, db: Database) -> None:
    try:
        await _test_a_live_nodes_calls_outlive_a_redis_restart(redis_server, db)
    finally:
        await close_all()


@pytest.mark.asyncio
async def test_a_node_that_died_in_the_outage_is_reaped_after_it(
    redis_server: RedisServer, db: Database
) -> None:
    try:
        await _test_a_node_that_died_in_the_outage_is_reaped_after_it(redis_server, db)
    finally:
        await close_all()


@pytest.mark.asyncio
async def test_an_ended_call_put_back_by_an_older_snapshot_is_removed(
    redis_server: RedisServer, db: Database
) -> None:
    try:
        await _test_an_ended_call_put_back_by_an_older_snapshot_is_removed(redis_server, db)
    finally:
        await close_all()
