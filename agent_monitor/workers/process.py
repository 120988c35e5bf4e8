"""One speech worker process seen from the front: start it, send it requests, learn of its death.

**Transport.** A Unix socket pair; the child is a fresh interpreter
(``python -m agent_monitor.workers.child FD``, started with :mod:`subprocess`: fork immediately
followed by exec, like multiprocessing's *spawn*, so nothing of the front's threads, event loop or
open files is inherited; the socket is the only descriptor passed). Messages are pickled and framed
by :class:`multiprocessing.connection.Connection` (only trusted peers: our own child). Two threads
per worker keep every socket operation off the event loop: the *sender* writes requests from a
queue (a worker slower than the audio fills the socket buffer; that must block a thread, not the
loop and with it every call), the *reader* receives replies and settles the waiting futures on
their own event loop with ``call_soon_threadsafe``. So the front stays responsive whatever a worker
does, and a worker's death is seen at once: the reader's ``recv`` ends (EOF), every request in
flight fails with :class:`SpeechWorkerError`, and the owner's ``on_death`` is called (it restarts one).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import agent_monitor
from agent_monitor.errors import ModelError, SpeechWorkerError
from agent_monitor.model.audio import BYTES_PER_SAMPLE
from agent_monitor.settings import Settings
from agent_monitor.workers.messages import Failed, Ready, Reply, Request

log = logging.getLogger(__name__)

#: a worker must have loaded its models and built its spares within this long
START_TIMEOUT_S = 300.0
#: a closed worker must exit within this long, then it is killed
STOP_TIMEOUT_S = 10.0
#: a worker that has not answered a request within this long (or :data:`REQUEST_AUDIO_FACTOR` times
#: the request's audio, if longer) is hung: it is killed and handled like a worker that died
REQUEST_TIMEOUT_S = 60.0
REQUEST_AUDIO_FACTOR = 10.0
#: the lowest sample rate a request's audio may have (so its length is never underestimated)
_MIN_RATE = 8000


class WorkerProcess:
    """A running speech worker: :meth:`start` it, :meth:`request` on it, :meth:`close` it."""

    def __init__(self, index: int, proc: subprocess.Popen[bytes], sock: socket.socket, ready: Ready) -> None:
        self.index = index
        self.proc = proc
        self.ready = ready
        self._sock = sock
        self._conn = Connection(os.dup(sock.fileno()))
        self._pending: dict[int, asyncio.Future[Any]] = {}
        # re-entrant: a leg's finalizer (a garbage collection) may run while this thread holds it
        self._lock = threading.RLock()
        self._ids = itertools.count()
        self._outbox: queue.SimpleQueue[Request | None] = queue.SimpleQueue()
        self._alive = True
        self._closing = False
        #: live legs placed here (opened, not yet released or dropped)
        self.legs = 0
        #: called once, from the reader thread, when the process ends without :meth:`close`
        self.on_death: Callable[[WorkerProcess], None] = lambda worker: None
        self.death: str | None = None
        #: why the front killed the process (a hung or garbled worker), for its death message
        self._fault: str | None = None
        self._sender = threading.Thread(target=self._send_loop, name=f"worker{index}-send", daemon=True)
        self._reader = threading.Thread(target=self._read_loop, name=f"worker{index}-read", daemon=True)

    @classmethod
    def start(cls, index: int, settings: Settings, cancelled: threading.Event | None = None) -> WorkerProcess:
        """Start worker ``index`` and wait until it is ready (blocking: seconds, the model load).
        Raises :class:`ModelError` when it cannot load its models, :class:`SpeechWorkerError` when
        it does not start (or ``cancelled`` is set meanwhile: the half-started process is killed)."""
        ours, theirs = socket.socketpair()
        proc = subprocess.Popen(
            [sys.executable, "-m", "agent_monitor.workers.child", str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            env=_child_env(),
        )
        theirs.close()
        try:
            first = cls._handshake(ours, settings, cancelled or threading.Event())
        except BaseException:
            ours.close()
            _stop(proc, 0.0)
            raise
        worker = cls(index, proc, ours, first)
        worker._sender.start()
        worker._reader.start()
        return worker

    @staticmethod
    def _handshake(sock: socket.socket, settings: Settings, cancelled: threading.Event) -> Ready:
        deadline = time.monotonic() + START_TIMEOUT_S
        with Connection(os.dup(sock.fileno())) as conn:
            conn.send(settings)
            while not conn.poll(0.2):
                if cancelled.is_set():
                    raise SpeechWorkerError("speech worker start cancelled")
                if time.monotonic() > deadline:
                    raise SpeechWorkerError(f"speech worker not ready within {START_TIMEOUT_S:.0f} s")
            try:
                first = conn.recv()
            except (EOFError, OSError) as exc:
                raise SpeechWorkerError("speech worker exited while starting") from exc
        if isinstance(first, Failed):
            raise ModelError(f"speech worker: {first.message}")
        if not isinstance(first, Ready):
            raise SpeechWorkerError(f"speech worker sent {type(first).__name__} instead of ready")
        return first

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self._alive

    async def request(self, make: Callable[[int], Request]) -> Any:
        """Send ``make(req)`` and wait for its reply's value (its error is raised here)."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        with self._lock:
            if not self._alive:
                raise SpeechWorkerError(self.death or f"speech worker {self.index} is stopped")
            req = next(self._ids)
            self._pending[req] = future
        request = make(req)
        self._outbox.put(request)
        timeout = _request_timeout(request)
        done, _ = await asyncio.wait({future}, timeout=timeout)
        if not done:  # hung: killed, its connection ends and the reader fails every request
            self.kill(f"was killed: no reply to a request within {timeout:.0f} s")
        return await future

    def kill(self, reason: str) -> None:
        """Kill a worker that hangs or talks nonsense (from any thread): its connection ends, so
        the reader fails its requests and reports its death like any other (``on_death``)."""
        with self._lock:
            if not self._alive or self._closing or self._fault is not None:
                return
            self._fault = reason
        log.error("speech worker %d (pid %d) %s", self.index, self.pid, reason)
        with contextlib.suppress(OSError):  # already gone
            self.proc.kill()

    def post(self, request: Request) -> None:
        """Send without waiting for the reply (from any thread; nothing if the worker is gone)."""
        if self._alive:
            self._outbox.put(request)

    def add_legs(self, n: int) -> None:
        with self._lock:
            self.legs += n

    def _send_loop(self) -> None:
        while (request := self._outbox.get()) is not None:
            try:
                self._conn.send(request)
            except OSError:
                return  # the reader sees the end of the connection and reports it

    def _read_loop(self) -> None:
        try:
            while True:
                reply = self._conn.recv()
                if isinstance(reply, Reply):
                    self._settle(reply)
        except (EOFError, OSError):
            pass
        except Exception as exc:  # a garbled message: the worker cannot be trusted any more
            self.kill(f"was killed: unreadable message ({type(exc).__name__}: {exc})")
        self._ended()

    def _settle(self, reply: Reply) -> None:
        with self._lock:
            future = self._pending.pop(reply.req, None)
        if future is not None:
            _resolve(future, reply.value, reply.error)

    def _ended(self) -> None:
        """The connection ended: the process exited, or :meth:`close` shut the socket."""
        with self._lock:
            self._alive = False
            pending, self._pending = self._pending, {}
            closing = self._closing
        self._outbox.put(None)
        if not closing:
            reason = _exit_reason(self.proc)
            if self._fault is not None:
                reason = self._fault
            self.death = f"speech worker {self.index} (pid {self.pid}) {reason}"
        error = SpeechWorkerError(self.death or f"speech worker {self.index} stopped")
        for future in pending.values():
            _resolve(future, None, error)
        self._conn.close()
        if not closing:
            self._sock.close()
            self.on_death(self)

    def close(self) -> None:
        """Stop the worker: close the connection (it exits on EOF), wait, kill it if it hangs."""
        with self._lock:
            self._closing = True
        self._outbox.put(None)
        with contextlib.suppress(OSError):  # already disconnected
            self._sock.shutdown(socket.SHUT_RDWR)
        if self._reader.is_alive() and threading.current_thread() is not self._reader:
            self._reader.join(STOP_TIMEOUT_S)
        self._sock.close()
        _stop(self.proc, STOP_TIMEOUT_S)


def _child_env() -> dict[str, str]:
    """The environment of a worker: this one, with the source tree this process runs from first on
    the path, so the worker runs the same code as the front (not another installed copy)."""
    root = str(Path(agent_monitor.__file__).resolve().parent.parent)
    path = os.environ.get("PYTHONPATH")
    return dict(os.environ, PYTHONPATH=f"{root}{os.pathsep}{path}" if path else root)


def _request_timeout(request: Request) -> float:
    """How long ``request`` may take: generous, and longer for more audio."""
    pcm = getattr(request, "pcm", b"")
    return max(REQUEST_TIMEOUT_S, REQUEST_AUDIO_FACTOR * len(pcm) / BYTES_PER_SAMPLE / _MIN_RATE)


def _resolve(future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    def settle() -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)

    with contextlib.suppress(RuntimeError):  # that event loop is closed: nobody waits any more
        future.get_loop().call_soon_threadsafe(settle)


def _exit_reason(proc: subprocess.Popen[bytes]) -> str:
    try:
        code = proc.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return "closed its connection but did not exit"
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with status {code}"


def _stop(proc: subprocess.Popen[bytes], timeout: float) -> None:
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        if timeout:
            log.warning("speech worker pid %d did not exit: killed", proc.pid)
        proc.kill()
        proc.wait()
