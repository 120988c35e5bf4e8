"""A live call whose audio stops arriving while its connection stays open is still heard as silence.

Signal health is judged on the audio that arrives (:mod:`.health`, on the call clock of the
samples), so a media fork that stalls, or a client that connects and never sends a frame, left the
call live with no health event at all: the monitor was deaf and nobody was told. :class:`AudioWatch`
notes when audio last came (the loop's clock and the call time it reached); once none has come for
``silent_s`` it has :meth:`CallHealth.idle` judge the legs at the call time that far on, once a
second until audio comes back (``silent`` on both legs: the supervisor's tile says so). Audio that
resumes clears the issues as speech does. File analysis pushes as fast as it can and is not watched.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from agent_monitor.model.events import SignalHealth
from agent_monitor.pipeline.health import CallHealth

#: how often the watch looks (seconds)
CHECK_EVERY_S = 1.0


class AudioWatch:
    """Judges a call's legs while no audio arrives (see the module documentation)."""

    def __init__(
        self,
        health: CallHealth,
        silent_s: float,
        emit: Callable[[SignalHealth], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.health = health
        self.silent_s = silent_s
        self.emit = emit
        self.clock = clock
        #: when audio last came (the watch's clock) and the call time it reached
        self.last_at = clock()
        self.last_t = 0.0

    def heard(self, call_t: float) -> None:
        """Audio reaching call time ``call_t`` has just arrived."""
        self.last_at, self.last_t = self.clock(), max(self.last_t, call_t)

    def check(self) -> None:
        """Judge the legs if no audio has come for ``silent_s``."""
        waited = self.clock() - self.last_at
        if waited >= self.silent_s:
            for event in self.health.idle(self.last_t + waited):
                self.emit(event)

    async def run(self) -> None:
        """Check every :data:`CHECK_EVERY_S` until cancelled (the call stops)."""
        while True:
            await asyncio.sleep(CHECK_EVERY_S)
            self.check()
