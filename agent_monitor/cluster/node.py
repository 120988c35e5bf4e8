"""This node on the floor: its name and its event bus, chosen by the ``cluster`` settings.

Without ``cluster.redis_url`` the node is alone: the in-process bus, exactly as a single server.
"""

from __future__ import annotations

import socket

from agent_monitor.cluster.redis_bus import RedisEventBus
from agent_monitor.pipeline.bus import EventBus, InProcessEventBus
from agent_monitor.settings import Settings


def node_id(settings: Settings) -> str:
    """``cluster.node_id``, else ``server.node_name`` or the host name, with the HTTP port."""
    if settings.cluster.node_id:
        return settings.cluster.node_id
    host = settings.server.node_name or socket.gethostname()
    return f"{host}:{settings.server.port}"


async def open_bus(settings: Settings) -> EventBus:
    """The bus of this node: over Redis when ``cluster.redis_url`` is set, started."""
    if settings.cluster.redis_url is None:
        return InProcessEventBus(settings.live.subscriber_queue)
    bus = RedisEventBus(settings.cluster, node_id(settings), settings.live.subscriber_queue)
    await bus.start()
    return bus


async def close_bus(bus: EventBus) -> None:
    """Send what a Redis bus still holds, then close it (nothing to do for the in-process bus)."""
    if isinstance(bus, RedisEventBus):
        await bus.close()
