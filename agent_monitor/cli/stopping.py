"""How a command stops on Ctrl-C (SIGINT) and on SIGTERM (a service manager, ``kill``).

Ctrl-C raises :class:`KeyboardInterrupt` in the main thread (inside ``asyncio.run`` it first
cancels the main task, which then ends in :class:`KeyboardInterrupt`), so the command's ``finally``
blocks run: an analysed call is closed as ``aborted`` with its recordings sealed, a started server
child is stopped, an output file is not put in place. :func:`agent_monitor.cli.main` then prints
``agent-monitor: interrupted`` and returns 130.

SIGTERM used to end the process at once (Python's default action): nothing of that ran, so
``analyze`` left its call ``live`` for ever with unsealed recordings and ``eval live`` left its
server running with no parent. :class:`StopSignals` makes SIGTERM take Ctrl-C's way out; ``main``
then prints ``agent-monitor: terminated`` and :func:`end_by_sigterm` ends the process by SIGTERM
itself, after the cleanup: exit status 143 in a shell, and a clean stop to a service manager
(systemd counts death by SIGTERM as success, an exit status of 143 as a failure).

A :class:`KeyboardInterrupt` that lands while Python runs a finalizer (``__del__``, a weakref
callback, in a garbage collection) cannot leave it: Python reports it ("Exception ignored in ...")
and the command used to carry on as if no Ctrl-C had come. :class:`StopSignals` takes such a
report and delivers the interrupt again, a moment later, outside the finalizer. A command that
ends within that moment has not seen it: :attr:`StopSignals.dropped` then says so, and ``main``
ends as interrupted (it used to exit 0, as if no Ctrl-C had come).
"""

from __future__ import annotations

import _thread
import contextlib
import signal
import sys
import threading
import time
from types import FrameType
from typing import Any

#: the exit status after Ctrl-C (128 + SIGINT), as shells report it
INTERRUPTED_STATUS = 130
#: the exit status a shell reports for a process ended by SIGTERM (128 + 15)
TERMINATED_STATUS = 128 + signal.SIGTERM
#: how long after a finalizer dropped a stop it is delivered again (the finalizer has returned)
REDELIVER_AFTER_S = 0.01


class StopSignals:
    """While entered (in the main thread), SIGTERM is handled as Ctrl-C and remembered, and a stop
    that a finalizer dropped is delivered again."""

    def __init__(self, *, program: bool = False) -> None:
        """``program``: this process is the program (its entry, not a test calling ``main``): once
        left, a stop is held for :func:`agent_monitor.cli.exiting.exit_on_stop` instead of being
        raised where the way out happens to be."""
        self.program = program
        #: the command's last line (interrupted, terminated) has been printed
        self.told = False
        #: a stop came after this was left (``program`` only)
        self.after = False
        self.terminated = False
        #: a stop that a finalizer dropped and that is not delivered again yet (or, after the exit,
        #: never was: the command ended first)
        self.dropped = False
        self._lock = threading.Lock()
        self._previous: Any = None
        self._previous_hook: Any = None
        self._installed = False

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._on_sigterm)
            self._previous_hook, sys.unraisablehook = sys.unraisablehook, self._on_unraisable
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            if self.program:
                signal.signal(signal.SIGINT, self._on_late_stop)
                signal.signal(signal.SIGTERM, self._on_late_stop)
            else:
                signal.signal(signal.SIGTERM, self._previous)
            sys.unraisablehook = self._previous_hook
            with self._lock:  # from here nothing is delivered again: a pending stop stays dropped
                self._installed = False

    def _on_late_stop(self, signum: int, frame: FrameType | None) -> None:
        self.after = True

    def _on_unraisable(self, unraisable: sys.UnraisableHookArgs) -> None:
        if unraisable.exc_type is None or not issubclass(unraisable.exc_type, KeyboardInterrupt):
            self._previous_hook(unraisable)
            return
        # a Ctrl-C (or a SIGTERM taking its way) raised in a finalizer, which cannot raise: the
        # main thread gets the signal again once it is out of there (not from here: raised in this
        # hook, it would be dropped for good)
        signum = signal.SIGTERM if self.terminated else signal.SIGINT
        self.dropped = True
        started = False
        try:
            # a bare thread: ``threading.Thread.start`` waits for it to begin, and a further stop
            # landing in that wait was raised in this hook (a traceback) with no delivery started
            _thread.start_new_thread(self._deliver, (signum,))
            started = True
        except KeyboardInterrupt:  # a further stop landed in this hook: one delivery for both
            if not started:
                _thread.start_new_thread(self._deliver, (signum,))

    def _deliver(self, signum: int) -> None:
        """A moment later, in a thread of its own: the dropped stop goes to the main thread, unless
        the command has already ended (then it stays :attr:`dropped`, for ``main``)."""
        time.sleep(REDELIVER_AFTER_S)
        with self._lock:
            if not (self._installed and self.dropped):
                return
            self.dropped = False
        _signal_main_thread(signum)

    def _on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        self.terminated = True
        on_ctrl_c = signal.getsignal(signal.SIGINT)
        if callable(on_ctrl_c) and on_ctrl_c is not signal.default_int_handler:
            # asyncio.run's (or a server's) own Ctrl-C handling: cancel the main task, the same
            # graceful way as a Ctrl-C
            on_ctrl_c(signal.SIGINT, frame)
            return
        # Python's default, or SIGINT ignored (a background job of a script): raise it here
        raise KeyboardInterrupt


def _signal_main_thread(signum: int) -> None:
    """Send ``signum`` to the main thread, where Python still handles it (a real signal, so that
    it also cuts short a sleep or a wait there, as the first one would have)."""
    if callable(signal.getsignal(signum)):
        signal.pthread_kill(threading.main_thread().ident or 0, signum)


def flush_output() -> None:
    """Flush stdout and stderr (a closed pipe or file is left as it is)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe or file
            stream.flush()


def end_by_sigterm() -> int:
    """End this process by SIGTERM with its default action, output flushed; returns
    :data:`TERMINATED_STATUS` only where the signal did not end it (not the main thread)."""
    flush_output()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.raise_signal(signal.SIGTERM)
    return TERMINATED_STATUS
