"""The program's way out, once its command has ended: a stop then no longer changes anything.

After ``main`` has returned its status (and printed ``agent-monitor: interrupted`` where a Ctrl-C
ended the command), Python still exits: it waits for the threads that are not daemons, runs the
exit hooks and frees what is left (a speech model takes a moment). A Ctrl-C or SIGTERM there used to
be raised wherever the exit was (a traceback from an exit hook after the command's last line) or,
once Python had put the default actions back, to kill the process: a parent saw -2, not the status
the command had already told.

Now a stop while Python waits for the threads ends the process at once with the command's status
(a thread that does not end can still be cut short), and from the exit hooks on a stop is ignored
(nothing there waits for long).
"""

from __future__ import annotations

import atexit
import os
import signal
import threading
from types import FrameType

from agent_monitor.cli.stopping import StopSignals, flush_output


def exit_on_stop(status: int, stops: StopSignals) -> None:
    """From here on, in the main thread: a stop ends the process with ``status`` (at once where
    one already came after ``stops`` was left), and is ignored from the exit hooks on."""
    if threading.current_thread() is not threading.main_thread():
        return

    def now(signum: int, frame: FrameType | None) -> None:
        flush_output()
        os._exit(status)

    signal.signal(signal.SIGINT, now)
    signal.signal(signal.SIGTERM, now)
    if stops.after:
        now(signal.SIGINT, None)
    # the exit hooks run last registered first: this one before any the command registered
    atexit.register(_ignore_stops)


def _ignore_stops() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
