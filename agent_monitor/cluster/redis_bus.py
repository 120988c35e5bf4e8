"""The event bus of a floor of several nodes: one Redis Stream, read by every node.

:class:`RedisEventBus` implements :class:`~agent_monitor.pipeline.bus.EventBus`:

* ``publish(event)`` hands the event to this node's own subscribers at once (the same
  :meth:`Subscription.offer` and so the same overflow policy as the in-process bus; nothing local
  waits on Redis) and queues it for Redis. A sender task ``XADD``s the queue in order to the
  stream ``PREFIX:events`` (approximate ``MAXLEN`` trimming) as ``{"node", "seq", "event"}``,
  where ``event`` is ``event.to_dict()`` as JSON. While Redis is away the sender retries with
  backoff (0.1 s doubling to ``cluster.reconnect_max_s``); critical events wait in memory and go
  out in order once Redis is back, non-critical ones beyond ``cluster.publish_buffer`` are dropped
  (counted in :attr:`dropped_unsent`).
* A reader task ``XREAD``s the stream and offers every other process's event to the local
  subscribers (its own, already delivered, are skipped by ``node`` instance).

**Resuming: a stored last id per node, not consumer groups.** Every node needs every event (a
fan-out, not a work queue), so a consumer group would have one consumer per node and its only use
would be the group's last-delivered id. The reader stores that id itself, ``SET
PREFIX:cursor:NODE_ID``, after it delivered a batch: a node restarted under the same
``cluster.node_id`` resumes right after the last event it delivered, and no pending-entries list
needs claiming or trimming when a node goes for good (the cursor key expires after a day). A
Redis disconnect loses nothing either: the reader keeps its position in memory and reads on from
it. Delivery is at least once on the stream (a batch sent when the connection broke may be sent
twice); ``seq`` numbers per publishing process let readers drop such repeats, so subscribers see
each event once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import OrderedDict, deque
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from agent_monitor.cluster.entries import entry_event, entry_origin, stream_id_fits, text
from agent_monitor.errors import InvalidRequestError
from agent_monitor.model.events import Event
from agent_monitor.pipeline.bus import EventFilter, InProcessEventBus, Subscription
from agent_monitor.settings import ClusterSettings

log = logging.getLogger(__name__)

#: events per XADD pipeline / per XREAD
BATCH = 200
CURSOR_TTL_S = 24 * 3600
#: how many recently delivered events' stream ids are remembered (:meth:`RedisEventBus.stream_id`)
ID_MEMORY = 10_000
#: longest wait of one XREAD (a closing bus waits for it)
READ_BLOCK_S = 0.5


class RedisEventBus:
    """The bus over a Redis Stream (see the module documentation); :meth:`start` it, then
    :meth:`close` it."""

    def __init__(self, settings: ClusterSettings, node_id: str, maxsize: int = 1000) -> None:
        if settings.redis_url is None:
            raise ValueError("RedisEventBus needs cluster.redis_url")
        self.settings = settings
        self.node_id = node_id
        #: this process (a restarted node is another instance of the same node id)
        self.instance = uuid.uuid4().hex
        self.stream = f"{settings.prefix}:events"
        self.cursor_key = f"{settings.prefix}:cursor:{node_id}"
        self.local = InProcessEventBus(maxsize)
        self.redis: aioredis.Redis = aioredis.from_url(
            settings.redis_url,
            socket_timeout=5.0,
            socket_connect_timeout=2.0,
            health_check_interval=10,
            decode_responses=False,  # bytes: each entry is decoded on its own (.entries)
        )
        self._unsent: deque[Event] = deque()
        self._unsent_wakeup = asyncio.Event()
        self._seq = 0
        self._sent_seq = 0
        self._last_seen: dict[str, int] = {}
        self._ids: OrderedDict[int, tuple[Event, str]] = OrderedDict()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        #: whether the last Redis command of the sender succeeded
        self.connected = False
        #: non-critical events not sent to Redis (it was away and the buffer was full)
        self.dropped_unsent = 0
        #: events read from other processes and offered to the local subscribers
        self.received = 0
        #: stream entries that were not events (logged and skipped)
        self.malformed = 0
        self.last_id: str | None = None

    # --- EventBus ---------------------------------------------------------------------------------
    async def publish(self, event: Event) -> None:
        self.publish_nowait(event)

    def publish_nowait(self, event: Event) -> None:
        self.local.publish_nowait(event)
        if not event.critical and len(self._unsent) >= max(1, self.settings.publish_buffer):
            self.dropped_unsent += 1
            return
        self._unsent.append(event)
        self._unsent_wakeup.set()

    def subscribe(self, filter: EventFilter | None = None, *, maxsize: int | None = None) -> Subscription:
        return self.local.subscribe(filter, maxsize=maxsize)

    @property
    def subscribers(self) -> int:
        return self.local.subscribers

    @property
    def pending(self) -> int:
        return self.local.pending

    @property
    def published(self) -> int:
        return self.local.published

    @property
    def unsent(self) -> int:
        """Events published here and not yet in Redis."""
        return len(self._unsent)

    # --- life cycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        """Find where to resume reading (when Redis answers now; else the reader does once it
        does), then start the sender and the reader."""
        try:
            self.last_id = await self._resume_point()
        except (RedisError, OSError) as exc:
            log.warning("redis bus: Redis does not answer at start (%r); retrying in the background", exc)
        self._tasks = [
            asyncio.create_task(self._send_forever(), name="redis-bus-send"),
            asyncio.create_task(self._read_forever(), name="redis-bus-read"),
        ]

    async def flush(self, timeout_s: float) -> bool:
        """Wait until every event published so far is in Redis (``False`` after ``timeout_s``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self._unsent and loop.time() < deadline:
            await asyncio.sleep(0.02)
        return not self._unsent

    async def close(self, flush_s: float = 2.0) -> None:
        """Send what is queued (for up to ``flush_s``), then stop both tasks and the connection.

        The reader is stopped between two reads, not cancelled inside a blocking ``XREAD``."""
        await self.flush(flush_s)
        self._stopping = True
        self._unsent_wakeup.set()
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=READ_BLOCK_S + 2.0)
            for task in late:
                task.cancel()
        self._tasks = []
        if self._unsent:
            log.error("redis bus: %d event(s) not sent before shutdown", len(self._unsent))
        await self.redis.aclose()

    # --- sender -----------------------------------------------------------------------------------
    async def _send_forever(self) -> None:
        backoff = Backoff(self.settings.reconnect_max_s)
        while not self._stopping:
            if not self._unsent:
                self._unsent_wakeup.clear()
                await self._unsent_wakeup.wait()
                continue
            batch = [self._unsent[i] for i in range(min(BATCH, len(self._unsent)))]
            try:
                await self._xadd(batch)
            except (RedisError, OSError) as exc:
                self._lost("send", exc)
                await backoff.wait()
                continue
            for _ in batch:
                self._unsent.popleft()
            self._sent_seq += len(batch)
            self.connected = True
            backoff.reset()

    async def _xadd(self, batch: list[Event]) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            for i, event in enumerate(batch, start=self._sent_seq + 1):
                fields: dict[Any, Any] = {
                    "node": self.instance,
                    "seq": i,
                    "event": json.dumps(event.to_dict(), ensure_ascii=False),
                }
                pipe.xadd(self.stream, fields, maxlen=self.settings.stream_maxlen, approximate=True)
            await pipe.execute()

    def _lost(self, what: str, exc: BaseException) -> None:
        if what == "read" or self.connected:
            log.warning("redis bus: %s failed (%r); retrying with backoff", what, exc)
        if what == "send":
            self.connected = False

    # --- reader -----------------------------------------------------------------------------------
    async def _read_forever(self) -> None:
        backoff = Backoff(self.settings.reconnect_max_s)
        while not self._stopping:
            try:
                if self.last_id is None:
                    self.last_id = await self._resume_point()
                await self._read_batch()
                backoff.reset()
            except (RedisError, OSError) as exc:
                self._lost("read", exc)
                await backoff.wait()
            except Exception:  # the reader of every other node's events must outlive one bad batch
                log.exception("redis bus: a read failed; reading on after it")
                await backoff.wait()

    async def _resume_point(self) -> str:
        """Right after the last event this node delivered, or the stream's end for a new node."""
        stored: Any = await self.redis.get(self.cursor_key)
        if stored is not None:
            cursor = stored.decode("ascii", "replace")
            if stream_id_fits(cursor):
                return cursor
            log.error("redis bus: ignored the stored cursor %r (not a stream id)", stored[:60])
        newest: Any = await self.redis.xrevrange(self.stream, count=1)
        return text(newest[0][0]) if newest else "0-0"

    async def _read_batch(self) -> None:
        assert self.last_id is not None
        reply: Any = await self.redis.xread(
            {self.stream: self.last_id}, count=BATCH, block=int(READ_BLOCK_S * 1000)
        )
        if not reply:
            return
        for raw_id, fields in reply[0][1]:
            entry_id = text(raw_id)  # Redis writes ids itself: always ASCII
            self.last_id = entry_id  # first: whatever happens with this entry, the reader moves on
            event = self._decode(entry_id, fields)
            if event is not None:
                self._deliver(entry_id, event)
        await self.redis.set(self.cursor_key, self.last_id, ex=CURSOR_TTL_S)

    def _decode(self, entry_id: str, fields: dict[bytes, bytes]) -> Event | None:
        """The event of an entry to deliver; ``None`` for this process's own, a repeat, or an
        entry that is not an event (logged and counted: the reader goes on past it)."""
        try:
            node, seq = entry_origin(fields)
            if node == self.instance or seq <= self._last_seen.get(node, 0):
                return None  # own event, or sent twice by a publisher whose connection broke
            event = entry_event(fields)
        except Exception as exc:  # any failure of one entry is that entry's, never the reader's
            self.malformed += 1
            log.error("redis bus: skipped stream entry %s, not an event: %s", entry_id, _brief(exc))
            return None
        self._last_seen[node] = seq
        return event

    def _deliver(self, entry_id: str, event: Event) -> None:
        self.received += 1
        self._ids[id(event)] = (event, entry_id)
        while len(self._ids) > ID_MEMORY:
            self._ids.popitem(last=False)
        self.local.publish_nowait(event)

    # --- resuming a subscriber ------------------------------------------------------------------
    def stream_id(self, event: Event) -> str | None:
        """The stream id of an event this node read from Redis (recent ones), else ``None``."""
        known = self._ids.get(id(event))
        return known[1] if known is not None and known[0] is event else None

    async def replay(self, since: str, filter: EventFilter | None = None) -> list[tuple[str, Event]]:
        """The critical events after stream id ``since`` up to what this node has delivered (for a
        subscriber that reconnects: ``/ws/events?since=ID``), oldest first, at most ``BATCH * 50``;
        entries that are not events are passed over. :class:`InvalidRequestError` for a ``since``
        that is not a stream id Redis takes."""
        if not stream_id_fits(since):
            raise InvalidRequestError("since must be a stream id such as 1733000000000-0")
        if self.last_id is None:
            return []
        try:
            entries: Any = await self.redis.xrange(
                self.stream, min=f"({since}", max=self.last_id, count=BATCH * 50
            )
        except ResponseError as exc:
            raise InvalidRequestError(f"since {since} is not a stream id to resume after: {exc}") from None
        out = []
        for raw_id, fields in entries:
            try:
                event = entry_event(fields)
            except Exception as exc:  # the reader logged and counted it when it passed it
                log.debug("redis bus: replay passed over entry %r: %s", raw_id, _brief(exc))
                continue
            if event.critical and (filter is None or filter(event)):
                out.append((text(raw_id), event))
        return out


def _brief(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:200]}"


class Backoff:
    """Waits of 0.1 s doubling up to ``most_s``; :meth:`reset` after a success."""

    def __init__(self, most_s: float) -> None:
        self.most_s = most_s
        self.next_s = 0.1

    async def wait(self) -> None:
        await asyncio.sleep(self.next_s)
        self.next_s = min(self.most_s, self.next_s * 2)

    def reset(self) -> None:
        self.next_s = 0.1
