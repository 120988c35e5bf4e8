"""This node on the floor: its name and its event bus, chosen by the ``cluster`` settings.

Without ``cluster.redis_url`` the node is alone: the in-process bus, exactly as a single server.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Protocol

from redis.exceptions import RedisError

from agent_monitor.cluster.handoffs import HandoffSweep
from agent_monitor.cluster.keeper import NodeKeeper
from agent_monitor.cluster.redis_bus import RedisEventBus
from agent_monitor.cluster.registry import CallRegistry, FloorCalls
from agent_monitor.model.events import CallEnded
from agent_monitor.model.session import Holder
from agent_monitor.pipeline.bus import EventBus, InProcessEventBus
from agent_monitor.pipeline.live_calls import LiveCall, LiveCalls
from agent_monitor.pipeline.opening import FloorNodes
from agent_monitor.settings import Settings
from agent_monitor.storage import Database, repo

log = logging.getLogger(__name__)


class HoldsCalls(LiveCalls, Protocol):
    """The call manager as the floor sees it: the live calls, those it still holds, this process
    as it names itself their holder in the database, and the floor it asks before opening a call."""

    holder: Holder
    floor: FloorNodes | None

    def held_calls(self) -> Sequence[LiveCall]: ...

    def opening_calls(self) -> Collection[str]: ...


class FloorMember(Protocol):
    """What :func:`join_floor` reads and sets of the web layer's services."""

    settings: Settings
    db: Database
    bus: EventBus
    live: LiveCalls | None
    keeper: NodeKeeper | None
    #: the calls this node's start marked aborted (its previous process held them)
    aborted_at_start: list[str]

    @property
    def manager(self) -> HoldsCalls: ...


async def open_bus(settings: Settings) -> EventBus:
    """The bus of this node: over Redis when ``cluster.redis_url`` is set, started."""
    if settings.cluster.redis_url is None:
        return InProcessEventBus(settings.live.subscriber_queue)
    bus = RedisEventBus(settings.cluster, settings.node_id, settings.live.subscriber_queue)
    await bus.start()
    return bus


async def close_bus(bus: EventBus) -> None:
    """Send what a Redis bus still holds, then close it (nothing to do for the in-process bus)."""
    if isinstance(bus, RedisEventBus):
        await bus.close()


async def join_floor(
    services: FloorMember, follow_packs: Callable[[], Awaitable[object]] | None = None
) -> None:
    """With ``cluster.redis_url``: start this node's :class:`NodeKeeper` (presence, its calls in
    the registry and the escalation sweep unless it is a web node; dead nodes' calls reaped; the
    rule pack choices other nodes stored applied by ``follow_packs``) and show the floor's calls."""
    settings = services.settings
    if settings.cluster.redis_url is None or not isinstance(services.bus, RedisEventBus):
        return
    holder = services.manager.holder  # this process: the registry's instance is the rows' holder
    registry = CallRegistry(services.bus.redis, settings.cluster, holder.node, holder.instance)
    holds_calls = settings.cluster.role != "web"
    held = services.manager.held_calls
    sweep = None
    if holds_calls:  # hand-offs survive the node that raised them: every analysis node sweeps
        after_s = settings.live.escalate_after_s
        horizon_s = settings.cluster.escalation_horizon_s
        sweep = HandoffSweep(services.db, services.bus, after_s=after_s, horizon_s=horizon_s)
    media_dir = settings.media_dir if holds_calls else None  # seals what its previous process left
    keeper = NodeKeeper(
        registry,
        held,
        services.db,
        services.bus,
        holds_calls=holds_calls,
        sweep=sweep,
        media_dir=media_dir,
        follow_packs=follow_packs,
        opening=services.manager.opening_calls,
    )
    try:
        await keeper.once()
    except (RedisError, OSError) as exc:
        log.warning("cluster: registry not reachable at start (%r); retrying in the background", exc)
    keeper.start()
    services.keeper = keeper
    services.live = FloorCalls(services.manager, registry)
    if holds_calls:  # a call live on another running node is refused here
        services.manager.floor = registry
    await _announce_aborted(services)


async def _announce_aborted(services: FloorMember) -> None:
    """``CallEnded`` on every wall for each call this node's start marked aborted: the walls saw
    it start, and a call never listed in the registry is reaped by no other node."""
    if not services.aborted_at_start:
        return

    def ends() -> list[CallEnded]:
        reason = f"node {services.settings.node_id} restarted"
        with services.db.session() as s:
            calls = [repo.get_call(s, call_id) for call_id in services.aborted_at_start]
            spans = [((c.ended_at or c.started_at) - c.started_at).total_seconds() for c in calls]
            return [
                CallEnded(c.id, max(0.0, d), "aborted", reason, c.final_level, max(0.0, d))
                for c, d in zip(calls, spans, strict=True)
            ]

    for ended in await asyncio.to_thread(ends):
        await services.bus.publish(ended)
