"""Event loops that a Ctrl-C pressed again leaves whole.

``asyncio.run`` (and :class:`asyncio.Runner`) takes the first Ctrl-C by cancelling the main task;
a second one raised :class:`KeyboardInterrupt` wherever the main thread was, in the middle of a
task's step or of a future's callbacks: a task could be left waiting on nothing (its wake-up never
scheduled), and the loop's close, which cancels the tasks left and runs the loop until they have
ended, then waited for it for ever. A third Ctrl-C landed in that close and cut it short: the loop
was closed with a task still pending, and Python printed "Task was destroyed but it is pending!"
(or a traceback from the half-closed loop's finalizer) after the command's last line.

:class:`Runner` and :func:`run` act on the first stop (the cancellation) and the second (the
:class:`KeyboardInterrupt`) at the loop's next turn, between two callbacks, where nothing is half
done (cancelled inside a callback, the first one too could leave a future's callback failing with
"invalid state"); a third one, for a loop that does not turn, is raised at once. A stop that lands
while the loop closes is held until the close is done, then raised (a second one there is raised
at once, for a task that ignores its cancellation).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable, Coroutine, Iterator
from types import FrameType
from typing import Any, TypeVar

T = TypeVar("T")


class _Held:
    """The SIGINT handler while stops are held: counts them; the second one raises."""

    def __init__(self) -> None:
        self.stops = 0

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.stops += 1
        if self.stops > 1:
            raise KeyboardInterrupt


@contextlib.contextmanager
def held_stops() -> Iterator[None]:
    """While the block runs (in the main thread), a Ctrl-C, and a SIGTERM taking its way
    (:class:`agent_monitor.cli.stopping.StopSignals`), is held; it is raised as
    :class:`KeyboardInterrupt` once the block has ended, unless the block ends by an exception
    (the stop that is already under way). A second stop in the block is raised at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = _Held()
    try:
        previous = signal.signal(signal.SIGINT, held)
    except KeyboardInterrupt:  # one pending: Python delivers it before changing the handler
        held.stops += 1
        previous = signal.signal(signal.SIGINT, held)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)
    if held.stops:
        raise KeyboardInterrupt


class _Stops:
    """The SIGINT handler while a main task runs: the first stop cancels it and the second is
    raised, each at the loop's next turn (unless the run has ended by then), a third at once."""

    def __init__(self, loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any]) -> None:
        self.loop = loop
        self.task = task
        self.count = 0
        #: the first stop's cancellation has reached the task
        self.cancelled = False
        #: the run is going on: a stop still queued once it has ended does nothing (it would cut
        #: short the loop's close, or the next run on it)
        self.active = True

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        if self.count == 1 and not self.task.done():
            self.loop.call_soon_threadsafe(self._cancel)
        elif self.count == 2 and not self.task.done():
            self.loop.call_soon_threadsafe(self._stop_now)
        else:
            raise KeyboardInterrupt

    def _cancel(self) -> None:
        if self.active:
            self.cancelled = self.task.cancel()

    def _stop_now(self) -> None:
        if self.active:
            raise KeyboardInterrupt


class Runner:
    """:class:`asyncio.Runner` taking stops as the module says."""

    def __init__(self, loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None) -> None:
        """``loop_factory``: makes the loop (asyncio's default loop where ``None``)."""
        self._runner = asyncio.Runner(loop_factory=loop_factory)

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, main: Coroutine[Any, Any, T]) -> T:
        """Run ``main`` to its end, as a task of this runner's loop."""
        loop = self._runner.get_loop()
        task = loop.create_task(main)
        if threading.current_thread() is not threading.main_thread() or (
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler
        ):
            return self._runner.run(_awaited(task))  # a handler of someone else's: left to it
        stops = _Stops(loop, task)
        signal.signal(signal.SIGINT, stops)
        try:
            result = loop.run_until_complete(task)
            if stops.count and not stops.cancelled:  # ended before the stop reached it
                raise KeyboardInterrupt
            return result
        except asyncio.CancelledError:
            if stops.count and task.uncancel() == 0:
                raise KeyboardInterrupt from None
            raise
        finally:
            stops.active = False
            if task.done() and not task.cancelled():
                task.exception()  # raised to the caller: not reported as never retrieved as well
            if signal.getsignal(signal.SIGINT) is stops:
                signal.signal(signal.SIGINT, signal.default_int_handler)

    def close(self) -> None:
        with held_stops():
            self._runner.close()


async def _awaited(task: asyncio.Task[T]) -> T:
    return await task


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)``, taking stops as the module says (:class:`Runner`)."""
    with Runner() as runner:
        return runner.run(main)
