"""Resuming an event websocket on a floor (Redis bus): ``/ws/events?since=ID`` (and
``/ws/ui/live?since=ID``) first sends the critical events after stream id ``ID`` that the client
missed while it (or the web node it used) was away, then the live events, without repeats.

On a Redis bus each event frame read from the stream carries ``"stream_id"``; a client remembers
the last one it got and passes it as ``since`` when it reconnects. With the in-process bus (one
node) there are no stream ids and ``since`` is refused.
"""

from __future__ import annotations

from redis.exceptions import RedisError

from agent_monitor.cluster.entries import stream_id_fits
from agent_monitor.cluster.redis_bus import RedisEventBus
from agent_monitor.errors import ClusterError, InvalidRequestError
from agent_monitor.model.events import Event
from agent_monitor.pipeline.bus import EventBus, EventFilter


def stream_id(bus: EventBus, event: Event) -> str | None:
    """The stream id of ``event`` on a Redis bus (``None``: in-process bus, or this node's own)."""
    return bus.stream_id(event) if isinstance(bus, RedisEventBus) else None


def order(sid: str) -> tuple[int, int]:
    ms, seq = sid.split("-")
    return int(ms), int(seq)


async def missed_events(bus: EventBus, since: str | None, wanted: EventFilter) -> list[tuple[str, Event]]:
    """The critical events ``wanted`` after stream id ``since`` (none without ``since``);
    :class:`InvalidRequestError` for a malformed id (or one whose parts do not fit in 64 bits) or
    a bus without stream ids; :class:`ClusterError` while Redis cannot be read."""
    if since is None:
        return []
    if not isinstance(bus, RedisEventBus):
        raise InvalidRequestError("since: this server has no event stream to resume (no cluster.redis_url)")
    if not stream_id_fits(since):  # Redis refuses parts beyond 64 bits
        raise InvalidRequestError("since must be a stream id such as 1733000000000-0")
    try:
        return await bus.replay(since, wanted)
    except (RedisError, OSError) as exc:  # Redis away: the client keeps its id and comes back
        raise ClusterError(f"the event stream cannot be read now ({type(exc).__name__}); reconnect") from None
