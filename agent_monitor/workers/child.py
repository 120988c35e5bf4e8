"""The speech worker process: ``python -m agent_monitor.workers.child FD``.

It composes its own speech stage (:class:`asr.languages.LanguageModels`: every installed model of
``settings.asr.models``, its spare recognizers and its ``asr.threads`` threads), then serves the
front process over the connection on file descriptor ``FD`` (see :mod:`.messages`): the first
message it receives is the :class:`~agent_monitor.settings.Settings`; it answers :class:`Ready`
once its spares are built (or :class:`Failed`), then one :class:`Reply` per request.

A thread reads requests and hands them to the process's event loop; each request runs as a task
(the front sends a leg's next request only after the reply to its last one, so one leg's requests
never overlap while different legs' Vosk calls run in parallel on the threads). The process ends
when the front closes its end, dies (checked every second), or sends a message it cannot read
(it logs it and ends: the front replaces it): it ignores SIGINT and SIGTERM, so a Ctrl-C or a service
stop reaching the whole process group leaves the front to settle its legs' last utterances first.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import signal
import sys
import threading
from multiprocessing.connection import Connection
from typing import Any

from agent_monitor.errors import AgentMonitorError, RecognizerError
from agent_monitor.heap_trim import HeapTrimmer
from agent_monitor.model.stages import Transcriber
from agent_monitor.settings import Settings
from agent_monitor.workers.messages import Close, Failed, Feed, Open, Ready, Reply, Request
from asr.languages import LanguageModels

log = logging.getLogger("agent_monitor.workers.child")

#: how often a worker checks that the front process is still its parent (seconds)
PARENT_CHECK_S = 1.0


class LegServer:
    """The legs this worker transcribes, by the front's key, and the requests on them."""

    def __init__(self, models: LanguageModels, conn: Connection, heap: HeapTrimmer | None = None) -> None:
        self.models = models
        self.conn = conn
        self.legs: dict[int, Transcriber] = {}
        #: gives the memory of ended legs back to the system once this worker has none open
        self.heap = heap or HeapTrimmer(None)

    async def handle(self, request: Request) -> None:
        """Run one request and send its reply (the value, or the error as the front will see it)."""
        try:
            reply = Reply(request.req, value=await self._run(request))
        except Exception as exc:  # every failure goes back to the leg that asked, never kills the worker
            reply = Reply(request.req, error=_portable(exc))
        self.conn.send(reply)

    async def _run(self, request: Request) -> Any:
        if isinstance(request, Open):
            self.heap.busy()
            self.legs[request.key] = await self.models.transcriber(
                request.lang,
                request.leg,
                t0=request.t0,
                first_utterance=request.first_utterance,
                keywords=request.keywords,
            )
            return None
        if isinstance(request, Feed):
            return await self._leg(request.key).feed(request.pcm)
        if isinstance(request, Close):
            try:
                return await self._leg(request.key).close()
            except BaseException:
                self.legs.pop(request.key, None)  # a recognizer in an unknown state is not reused
                raise
        leg = self.legs.pop(request.key, None)
        if leg is not None and request.reuse:
            await leg.release()
        if not self.legs:
            self.heap.idle()
        return None

    def _leg(self, key: int) -> Transcriber:
        leg = self.legs.get(key)
        if leg is None:
            raise RecognizerError(f"speech worker {os.getpid()}: no open leg {key}")
        return leg


def _portable(exc: Exception) -> BaseException:
    """The error as the front receives it: our own errors as they are, anything else as a
    :class:`RecognizerError` naming it (an arbitrary exception may not survive pickling)."""
    if isinstance(exc, AgentMonitorError):
        try:
            pickle.loads(pickle.dumps(exc))
            return exc
        except Exception:
            log.debug("error %r does not pickle", exc)
    log.error("speech worker %d: request failed", os.getpid(), exc_info=exc)
    return RecognizerError(f"speech worker {os.getpid()}: {type(exc).__name__}: {exc}")


def _read(conn: Connection, loop: asyncio.AbstractEventLoop, inbox: asyncio.Queue[Request | None]) -> None:
    """The reader thread: requests into the loop's queue, ``None`` when the front is gone."""
    try:
        while True:
            message = conn.recv()
            loop.call_soon_threadsafe(inbox.put_nowait, message)
    except (EOFError, OSError):
        pass
    except Exception:  # a garbled message: this worker ends (the front sees it die and replaces it)
        log.exception("speech worker %d: unreadable message from the front", os.getpid())
    loop.call_soon_threadsafe(inbox.put_nowait, None)


async def _watch_parent(parent: int, inbox: asyncio.Queue[Request | None]) -> None:
    """Ends the worker when the front process is gone (this process was re-parented)."""
    while os.getppid() == parent:
        await asyncio.sleep(PARENT_CHECK_S)
    log.error("speech worker %d: the front process %d is gone", os.getpid(), parent)
    inbox.put_nowait(None)


async def serve(conn: Connection, models: LanguageModels, heap: HeapTrimmer | None = None) -> None:
    """Build the spares, say :class:`Ready`, then serve requests until the front closes (or dies)."""
    parent = os.getppid()
    await models.prewarm()
    languages = tuple(models.languages)
    conn.send(Ready(os.getpid(), languages, models.missing, models.to_dict(), models.describe()))
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[Request | None] = asyncio.Queue()
    threading.Thread(target=_read, args=(conn, loop, inbox), name="worker-reader", daemon=True).start()
    server = LegServer(models, conn, heap)
    watcher = asyncio.create_task(_watch_parent(parent, inbox))
    tasks: set[asyncio.Task[None]] = set()
    while (request := await inbox.get()) is not None:
        task = asyncio.create_task(server.handle(request))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    watcher.cancel()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s speech worker %(process)d: %(message)s")
    conn = Connection(int(argv[0]))
    settings: Settings = conn.recv()
    try:
        models = LanguageModels.from_settings(settings)
    except AgentMonitorError as exc:
        conn.send(Failed(str(exc)))
        return 1
    try:
        asyncio.run(serve(conn, models, HeapTrimmer(settings.server.trim_heap_after_idle_s)))
    except (BrokenPipeError, ConnectionResetError):
        pass  # the front is gone: nobody is left to answer
    finally:
        models.close()
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
