"""A call still opening is not listed on the floor (``CallManager.held_calls``, what the registry's
beat writes): a real call manager (the real Vosk model, a real SQLite database) on a floor of a real
``redis-server``, whose opening of a call that another present node holds live is refused. Before,
the call was listed while its opening asked the floor: a beat then wrote this node's entry over
the holder's and the next removed it, so the call left every other node's view (the agent's panel
on a web node lost its checklist) until the holder's next beat."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from agent_monitor.cluster.registry import CallRegistry
from agent_monitor.errors import ConflictError
from agent_monitor.model.session import CallInfo, Holder
from agent_monitor.model.stages import Stages
from agent_monitor.pipeline import CallManager, InProcessEventBus
from agent_monitor.settings import ClusterSettings, Settings
from agent_monitor.storage import Database, repo
from tests.agent_monitor.cluster.registry_support import Held
from tests.agent_monitor.pipeline.conftest import FakeClock
from tests.redis_support import RedisServer


@pytest.fixture()
def floor_redis(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path / "redis") as server:
        yield server


class ListingFloor:
    """The manager's floor: its real registry, which beats with the manager's held calls each time
    the opening asks which nodes are present (a beat falling inside the opening); ``listed``: how
    the manager showed the call then (held, live, found by id)."""

    def __init__(self, registry: CallRegistry, manager: CallManager, call_id: str) -> None:
        self.registry = registry
        self.manager = manager
        self.call_id = call_id
        self.listed: list[list[str]] = []

    async def nodes_present(self) -> frozenset[str] | None:
        held = self.manager.held_calls()
        shown = [f"held {c.call_id}" for c in held] + [f"live {c.call_id}" for c in self.manager.live_calls()]
        found = self.manager.get(self.call_id)
        self.listed.append(shown + ([f"found {found.call_id}"] if found is not None else []))
        await self.registry.beat(held)
        return await self.registry.nodes_present()


@pytest.mark.asyncio
async def test_a_refused_opening_never_lists_the_call(
    live_settings: Settings,
    stages: Stages,
    database: Database,
    bus: InProcessEventBus,
    clock: FakeClock,
    floor_redis: RedisServer,
) -> None:
    cluster = ClusterSettings(redis_url=floor_redis.url, prefix="t", heartbeat_s=0.2, node_ttl_s=5.0)
    holder_node = CallRegistry(aioredis.from_url(floor_redis.url), cluster, "a2")
    info = CallInfo("f2", "A-2")
    with database.session() as s:
        holder = Holder("a2", holder_node.instance)
        repo.start_call(s, "f2", "A-2", source_protocol="ws-ingest", holder=holder)
    await holder_node.beat([Held(info)])
    manager = CallManager(live_settings, stages, database, bus, clock=clock)
    registry = CallRegistry(aioredis.from_url(floor_redis.url), cluster, manager.holder.node)
    floor = ListingFloor(registry, manager, "f2")
    manager.floor = floor
    try:
        with pytest.raises(ConflictError, match="call 'f2' is live on node 'a2'"):
            await manager.start_call(info)
        await registry.beat(manager.held_calls())  # the beat after the refusal
        assert floor.listed == [[]]  # neither held, nor live, nor found by id while it was opening
        seen = await registry.read()
        assert seen["f2"].node == "a2" and seen["f2"].instance == holder_node.instance, seen
    finally:
        await manager.shutdown()
        for r in (registry, holder_node):
            await r.redis.aclose()
