"""The event bus: every pipeline event is published here; the web layer and tests subscribe.

Interface (:class:`EventBus`), which a Redis-backed bus for several machines can implement with
one pub/sub channel (or stream) per deployment carrying ``event.to_dict()`` as JSON:

* ``await bus.publish(event)`` delivers the event to every current subscriber. It never drops an
  event and never waits for a subscriber (a Redis bus: ``XADD``/``PUBLISH``; critical events
  should use a stream so a briefly disconnected consumer can catch up).
* ``bus.subscribe(filter=None)`` returns a :class:`Subscription`, an async iterator of the events
  for which ``filter(event)`` is true, in publication order, until ``close()``.

**Overflow policy** (per subscriber, ``maxsize`` events): when a subscriber's backlog is full, a
new *non-critical* event (transcripts, stress updates, audio-drop notices) makes the subscriber
lose its oldest non-critical event (or the new one, if the backlog holds only critical events),
counted in ``Subscription.dropped``. *Critical* events (call start/end, rule hits, levels,
alerts, agent warnings, handoffs, alert states, QA) are always queued, even beyond ``maxsize``:
a slow subscriber can cost memory, never an alert.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Protocol

from agent_monitor.model.events import Event

EventFilter = Callable[[Event], bool]


class Subscription:
    """One subscriber's queue of events; iterate with ``async for`` (ends after ``close()``).

    A bus feeds it with :meth:`offer` (which applies the overflow policy); another bus
    implementation (e.g. Redis) can reuse it, feeding it from its reader task."""

    def __init__(
        self,
        filter: EventFilter | None = None,
        maxsize: int = 1000,
        on_close: Callable[[Subscription], None] | None = None,
    ) -> None:
        self._on_close = on_close
        self._filter = filter
        self.maxsize = maxsize
        self._queue: deque[Event] = deque()
        self._wakeup = asyncio.Event()
        self.closed = False
        #: non-critical events this subscriber lost to the overflow policy
        self.dropped = 0

    def wants(self, event: Event) -> bool:
        return self._filter is None or self._filter(event)

    def offer(self, event: Event) -> None:
        """Queue ``event`` if wanted, applying the overflow policy."""
        if not self.wants(event):
            return
        if self.closed:
            return
        if len(self._queue) >= self.maxsize and not event.critical:
            for i, queued in enumerate(self._queue):
                if not queued.critical:
                    del self._queue[i]
                    break
            else:
                self.dropped += 1
                return
            self.dropped += 1
        self._queue.append(event)
        self._wakeup.set()

    @property
    def pending(self) -> int:
        return len(self._queue)

    def get_nowait(self) -> Event | None:
        """The next queued event, or ``None``."""
        return self._queue.popleft() if self._queue else None

    async def get(self) -> Event:
        """Wait for the next event; raises :class:`StopAsyncIteration` once closed and empty."""
        while not self._queue:
            if self.closed:
                raise StopAsyncIteration
            self._wakeup.clear()
            await self._wakeup.wait()
        return self._queue.popleft()

    def __aiter__(self) -> AsyncIterator[Event]:
        return self

    async def __anext__(self) -> Event:
        return await self.get()

    def close(self) -> None:
        """Stop receiving; events already queued can still be read."""
        if not self.closed:
            self.closed = True
            if self._on_close is not None:
                self._on_close(self)
            self._wakeup.set()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EventBus(Protocol):
    """What the pipeline needs of a bus (see the module documentation for the contract)."""

    async def publish(self, event: Event) -> None: ...

    def subscribe(self, filter: EventFilter | None = None) -> Subscription: ...


class InProcessEventBus:
    """The default bus: subscribers in this process, fan-out in ``publish``."""

    def __init__(self, maxsize: int = 1000) -> None:
        self.maxsize = maxsize
        self._subscribers: list[Subscription] = []
        #: events published so far (all types)
        self.published = 0

    async def publish(self, event: Event) -> None:
        self.publish_nowait(event)

    def publish_nowait(self, event: Event) -> None:
        """Synchronous publish, for code that is not a coroutine (same policy)."""
        self.published += 1
        for sub in list(self._subscribers):
            sub.offer(event)

    def subscribe(self, filter: EventFilter | None = None, *, maxsize: int | None = None) -> Subscription:
        sub = Subscription(filter, maxsize or self.maxsize, on_close=self._remove)
        self._subscribers.append(sub)
        return sub

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    @property
    def pending(self) -> int:
        """Events waiting in all subscribers' queues."""
        return sum(sub.pending for sub in self._subscribers)

    def _remove(self, sub: Subscription) -> None:
        if sub in self._subscribers:
            self._subscribers.remove(sub)
