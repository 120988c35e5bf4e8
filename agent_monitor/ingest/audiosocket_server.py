"""The Asterisk AudioSocket TCP server: one leg per connection, joined into calls by UUID.

Framing and the UUID-to-call rules are in :mod:`agent_monitor.ingest.audiosocket`. Each connection
must send its UUID frame within ``settings.server.start_timeout_s``; its audio frames go to its leg
of the call. A leg that then sends nothing for ``settings.server.audiosocket_idle_timeout_s`` (40 s;
Asterisk sends 20 ms frames, silence included) is taken for a half-open connection and closed like a
disconnect. The call (a :class:`~agent_monitor.pipeline.CallSession`) starts with its first
connection and stops when its last open connection ends: ``ended`` if every leg sent a hangup frame,
otherwise ``aborted`` with the reason (disconnect, Asterisk error frame, protocol violation). A leg
that connects after its call stopped continues the same call id (the pipeline resumes it): a
registered UUID stays registered for a while after its connection ends, and a leg that connects
while its call is stopping waits for the stop and then resumes the call. A
protocol violation is answered with an error frame (kind 0xff, the UTF-8 reason) and the connection
is closed; no hangup frame is ever sent, so a monitoring problem never hangs up the customer's call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import uuid
from dataclasses import dataclass, field

from agent_monitor.errors import (
    IngestProtocolError,
    IngestStorageError,
    PipelineError,
    StorageError,
)
from agent_monitor.ingest import logged_problem
from agent_monitor.ingest.audiosocket import (
    Kind,
    LegRegistry,
    LegTarget,
    convention_target,
    encode_frame,
    read_frame,
)
from agent_monitor.ingest.disk_space import DiskWatch, disk_full_cause
from agent_monitor.ingest.starting import start_live_call
from agent_monitor.model.audio import Leg
from agent_monitor.pipeline import CallManager, CallSession
from agent_monitor.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class _Call:
    session: CallSession
    open_legs: set[Leg] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


class AudioSocketServer:
    """Accepts AudioSocket connections and feeds their audio into call sessions."""

    def __init__(
        self, manager: CallManager, registry: LegRegistry, settings: Settings, disk: DiskWatch | None = None
    ) -> None:
        self.manager = manager
        self.registry = registry
        self.settings = settings
        #: the data directory's free space: no call starts while it is full, as on the websockets
        self.disk = disk
        self.port: int | None = None
        self._servers: list[asyncio.Server] = []
        self._calls: dict[str, _Call] = {}
        #: calls whose last leg has left and whose session is stopping (set once it has stopped)
        self._stopping: dict[str, asyncio.Event] = {}
        self._lock = asyncio.Lock()
        self._handlers: set[asyncio.Task[None]] = set()

    async def start(self, host: str, port: int, sockets: list[socket.socket] | None = None) -> None:
        """Listen on ``host:port``, or on ``sockets`` already bound to them (``serve`` binds its
        ports before the application starts: :mod:`agent_monitor.cli.listeners`)."""
        if sockets:
            self._servers = [await asyncio.start_server(self._handle, sock=sock) for sock in sockets]
        else:
            self._servers = [await asyncio.start_server(self._handle, host, port)]
        self.port = int(self._servers[0].sockets[0].getsockname()[1])
        log.info("AudioSocket listening on %s:%d", host, self.port)

    async def close(self) -> None:
        """Stop listening; open connections are closed and their calls stopped (aborted)."""
        for server in self._servers:
            server.close()
            await server.wait_closed()
        for task in list(self._handlers):
            task.cancel()
        if self._handlers:
            await asyncio.gather(*self._handlers, return_exceptions=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        call: _Call | None = None
        leg: Leg | None = None
        registered: tuple[uuid.UUID, LegTarget] | None = None
        clean, problem = False, "connection closed without a hangup frame"
        try:
            identified = await self._identify(reader)
            if identified is None:
                return
            target, registered = identified
            leg = target.leg
            call = await self._join(target)
            clean, problem = await self._stream(reader, call.session, leg)
        except IngestProtocolError as exc:
            problem = f"protocol error: {exc}"
            log.warning("AudioSocket connection closed: %s", logged_problem(exc))
            with contextlib.suppress(ConnectionError, OSError):
                writer.write(encode_frame(Kind.ERROR, str(exc).encode("utf-8")[:1024]))
                await writer.drain()
        except (ConnectionError, OSError) as exc:
            problem = f"connection lost: {exc}"
        except asyncio.CancelledError:
            # server shutdown: the call is stopped below; the handler ends here, not re-raising
            # (asyncio's stream callback would log the cancellation of its task as an error)
            problem = "server shutdown"
        finally:
            writer.close()
            if registered is not None:
                self.registry.hold(*registered)
            if call is not None and leg is not None:
                await asyncio.shield(self._leave(call, leg, clean, problem))
            self._handlers.discard(task)

    async def _identify(
        self, reader: asyncio.StreamReader
    ) -> tuple[LegTarget, tuple[uuid.UUID, LegTarget] | None] | None:
        """The leg this connection carries, and its registration (None: by the UUID convention)."""
        timeout = self.settings.server.start_timeout_s
        try:
            frame = await asyncio.wait_for(read_frame(reader), timeout)
        except TimeoutError:
            raise IngestProtocolError(f"no UUID frame within {timeout:g} s") from None
        if frame is None:
            return None
        if frame.kind is not Kind.UUID:
            raise IngestProtocolError(f"the first AudioSocket frame must be the UUID, not {frame.kind.name}")
        value = uuid.UUID(bytes=frame.payload)
        registered = self.registry.claim(value)
        if registered is not None:
            return registered, (value, registered)
        return convention_target(value, self.settings.server.audiosocket_agent), None

    async def _join(self, target: LegTarget) -> _Call:
        call_id = target.call.call_id
        while True:
            stopping = self._stopping.get(call_id)
            if stopping is not None:
                await stopping.wait()  # its last leg left a moment ago: resume the call once stopped
                continue
            async with self._lock:
                if call_id in self._stopping:  # a stop began while this leg waited for the lock
                    continue
                call = self._calls.get(call_id)
                if call is None:
                    call = self._calls[call_id] = _Call(await self._start(target))
                elif target.leg in call.open_legs:
                    raise IngestProtocolError(
                        f"the {target.leg.value} leg of call {call_id} is already connected"
                    )
                call.open_legs.add(target.leg)
                return call

    async def _start(self, target: LegTarget) -> CallSession:
        """Start the call a first leg connects for; refused (an error frame to Asterisk) while the
        disk is full, as a websocket call is (before: started, or "connection lost" with no word)."""
        try:
            live = self.settings.live
            return await start_live_call(self.manager, target.call, "audiosocket", live, self.disk)
        except IngestStorageError as exc:
            raise IngestProtocolError(str(exc)) from None

    def _disk_full(self, cause: OSError) -> str:
        """Note a write refused for lack of space (``/healthz`` says so); the problem in words."""
        if self.disk is not None:
            self.disk.failed(cause.strerror or str(cause))
        return f"disk full ({cause.strerror})"

    async def _stream(self, reader: asyncio.StreamReader, session: CallSession, leg: Leg) -> tuple[bool, str]:
        """Feed audio until the leg ends; returns (hung up cleanly, why it ended)."""
        idle = self.settings.server.audiosocket_idle_timeout_s
        while True:
            try:
                frame = await asyncio.wait_for(read_frame(reader), idle)
            except TimeoutError:
                return False, f"nothing received for {idle:g} s (connection half-open?)"
            if frame is None:
                return False, "connection closed without a hangup frame"
            if frame.kind is Kind.AUDIO:
                try:
                    session.push_audio(leg, frame.payload)
                except PipelineError as exc:
                    raise IngestProtocolError(str(exc)) from None
                except (StorageError, OSError) as exc:
                    full = disk_full_cause(exc)
                    if full is None:
                        raise
                    self._disk_full(full)
                    raise IngestProtocolError(
                        f"disk full: the recording cannot be written ({full.strerror})"
                    ) from None
            elif frame.kind is Kind.HANGUP:
                return True, "hangup"
            elif frame.kind is Kind.ERROR:
                code = frame.payload.hex() or "none"
                return False, f"Asterisk sent an error frame (code {code})"
            elif frame.kind is Kind.UUID:
                raise IngestProtocolError("a second UUID frame on one connection")
            # DTMF: nothing to do for monitoring

    async def _leave(self, call: _Call, leg: Leg, clean: bool, problem: str) -> None:
        call_id = call.session.call_id
        async with self._lock:
            call.open_legs.discard(leg)
            if not clean:
                call.problems.append(f"{leg.value} leg: {problem}")
            if call.open_legs:
                return
            if self._calls.get(call_id) is call:
                del self._calls[call_id]
            stopped = self._stopping[call_id] = asyncio.Event()
        try:
            if call.problems:
                await call.session.stop("; ".join(call.problems), status="aborted")
            else:
                await call.session.stop("hangup", status="ended")
        finally:
            if self._stopping.get(call_id) is stopped:
                del self._stopping[call_id]
            stopped.set()
