"""The uvicorn server of ``serve`` and ``demo``: a Ctrl-C pressed again never skips settling the calls.

uvicorn takes a second Ctrl-C as "force quit": it stops waiting for the open connections and then
skips the application's shutdown, which is where the server settles its calls (each live call
closed ``aborted``, its last queued audio recognised, its rows written, its recordings sealed:
:meth:`agent_monitor.pipeline.CallManager.shutdown`). A second Ctrl-C while a call was being
settled left it ``live`` until the next start marked it ``aborted``, with its recordings unsealed
and the rows still queued for the database lost. :class:`SettlingServer` keeps uvicorn's meaning
of the second Ctrl-C (stop waiting for the connections) and settles the calls all the same; each
Ctrl-C after the first says so in one line. SIGQUIT (Ctrl-\\) or SIGKILL end the process without.

:func:`serve` runs the server's loop in :class:`agent_monitor.event_loops.Runner` (uvicorn's own
loop kind: uvloop where installed), so that a stop landing in the loop's close is held until the
close is done, as every other command's loop does.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from types import FrameType

import uvicorn

from agent_monitor.event_loops import Runner

__all__ = ["SETTLING", "SettlingServer", "serve"]

#: what a Ctrl-C after the first says (written with one ``os.write``: safe in a signal handler)
SETTLING = (
    "agent-monitor: stopping: no longer waiting for open connections; the calls are settled first "
    "(closed aborted, their last audio recognised, rows written, recordings sealed); Ctrl-\\ "
    "(SIGQUIT) quits without\n"
)
#: a Ctrl-C within this many seconds of the last line said is not answered again
SAY_EVERY_S = 1.0


class SettlingServer(uvicorn.Server):
    """:class:`uvicorn.Server` whose forced quit still runs the application's shutdown."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        #: Ctrl-Cs pressed after the first
        self.pressed_again = 0
        self._said_at: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if not (sig == signal.SIGINT and self.should_exit):
            super().handle_exit(sig, frame)
            return
        # uvicorn's forced quit, not kept among the stops it raises again once it has stopped: the
        # first one ends the command (a second one raised then would cut the loop's close short)
        self.force_exit = True
        self.pressed_again += 1
        now = time.monotonic()
        if self._said_at is None or now - self._said_at >= SAY_EVERY_S:
            self._said_at = now
            os.write(2, SETTLING.encode())

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets)
        # forced before uvicorn came to the application's shutdown (the calls' settling), it
        # skipped it; forced while it ran, it waited for it (its lifespan has ended then)
        ended = getattr(self.lifespan, "shutdown_event", None)
        if self.force_exit and ended is not None and not ended.is_set():
            await self.lifespan.shutdown()


def serve(config: uvicorn.Config, sockets: list[socket.socket] | None = None) -> None:
    """Run a :class:`SettlingServer` for ``config`` on ``sockets`` until it is stopped (a stop
    ends in :class:`KeyboardInterrupt`, after the calls are settled, as uvicorn's own run does)."""
    with Runner(loop_factory=config.get_loop_factory()) as runner:
        runner.run(SettlingServer(config).serve(sockets=sockets))
