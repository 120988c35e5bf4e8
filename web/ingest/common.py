"""What both websocket ingest endpoints share: receiving, starting the call, closing with a reason.

Closing rules (documented in :mod:`agent_monitor.ingest.ws_ingest`):

- stop message: the session is stopped (``ended``; everything queued is recognised and stored),
  the server answers ``{"type": "stopped", ...}`` and closes with 1000;
- protocol violation: the session is stopped (``aborted``, reason ``protocol error: ...``) and
  the connection closed with 1008/1003/1009 and the problem as reason;
- client gone (TCP reset, close frame without stop): the session is stopped (``aborted``,
  reason ``client disconnected (code N)``);
- disk full (a recording cannot be written): the session is stopped (``aborted``, reason
  ``disk full: ...``) and the connection closed with 1011 and that reason; while the disk stays
  full (:mod:`agent_monitor.ingest.disk_space`) new calls are refused with 1013 ``call not
  started: disk full ...``;
- a server bug: logged with its traceback, the session stopped (``aborted``), close 1011.

In every case what was received before is kept: recordings are closed, rows ended.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from agent_monitor.errors import (
    AgentMonitorError,
    IngestProtocolError,
    IngestStorageError,
    PipelineError,
    StorageError,
)
from agent_monitor.ingest import close_reason, logged_problem
from agent_monitor.ingest.disk_space import disk_full_cause
from agent_monitor.ingest.starting import start_live_call
from agent_monitor.ingest.ws_ingest import StartMessage
from agent_monitor.model.audio import Leg
from agent_monitor.model.session import Source
from web.errors import CLOSE_SERVER_ERROR
from web.services import Services

if TYPE_CHECKING:
    from agent_monitor.pipeline import CallSession

log = logging.getLogger(__name__)

CLOSE_NORMAL = 1000


@dataclass(frozen=True, slots=True)
class Received:
    kind: Literal["text", "bytes", "disconnect"]
    text: str = ""
    data: bytes = b""
    code: int = 1000


#: handles one received frame; ``True`` when the client ended the call (stop)
HandleFn = Callable[[Received], Awaitable[bool]]


async def receive(ws: WebSocket) -> Received:
    """The next frame (or the disconnect)."""
    message = await ws.receive()
    if message["type"] == "websocket.disconnect":
        return Received("disconnect", code=int(message.get("code") or 1005))
    if message.get("text") is not None:
        return Received("text", text=message["text"])
    return Received("bytes", data=message.get("bytes") or b"")


class IngestCall:
    """The call session behind one ingest websocket."""

    def __init__(self, ws: WebSocket, services: Services, source: Source, *, reply: bool = True) -> None:
        #: ``reply``: send ``started``/``stopped`` messages (not on Twilio streams: Twilio expects
        #: only its own message types)
        self.reply_messages = reply
        self.ws = ws
        self.services = services
        self.source: Source = source
        self.session: CallSession | None = None

    async def start(self, start: StartMessage) -> CallSession:
        services = self.services
        self.session = await start_live_call(
            services.manager, start, self.source, services.settings.live, services.disk
        )
        return self.session

    def push(self, leg: Leg, data: bytes) -> None:
        if self.session is None:
            raise IngestProtocolError("audio before the call started", 1003)
        try:
            self.session.push_audio(leg, data)
        except PipelineError as exc:
            raise IngestProtocolError(str(exc), 1003) from None
        except (StorageError, OSError) as exc:
            full = disk_full_cause(exc)
            if full is None:
                raise
            self.services.disk.failed(full.strerror or str(full))
            raise IngestStorageError(
                f"disk full: the recording cannot be written ({full.strerror})"
            ) from None

    def count_dropped(self, leg: Leg, samples: int) -> None:
        """Audio the client said it sent but that is not kept (a clock jump beyond the fill limit)."""
        if self.session is not None:
            self.session.count_dropped(leg, samples)

    async def stopped(self, reason: str) -> None:
        """The client ended the call properly: stop, report, close 1000."""
        session = self.session
        if session is not None:
            await session.stop(reason, status="ended")
            if self.reply_messages:
                await self._send(
                    {
                        "type": "stopped",
                        "call_id": session.call_id,
                        "level": session.level.value,
                        "stats": session.stats.to_dict(),
                    }
                )
        await self._close(CLOSE_NORMAL, "call stopped")

    async def violated(self, exc: IngestProtocolError) -> None:
        log.warning("%s connection closed: %s", self.source, logged_problem(exc))
        if self.session is not None:
            await self.session.stop(f"protocol error: {exc}", status="aborted")
        await self._close(exc.close_code, str(exc))

    async def storage_failed(self, exc: IngestStorageError) -> None:
        """The call's audio cannot be stored: end the call (aborted, what was stored is kept)."""
        log.error("%s connection closed: %s", self.source, exc)
        if self.session is not None:
            try:
                await self.session.stop(str(exc), status="aborted")
            except AgentMonitorError as stop_exc:
                log.error("%s: call %s not ended cleanly: %s", self.source, self.session.call_id, stop_exc)
        await self._close(exc.close_code, str(exc))

    async def disconnected(self, code: int) -> None:
        if self.session is not None:
            await self.session.stop(f"client disconnected (code {code})", status="aborted")

    async def failed(self, exc: BaseException) -> None:
        log.error("%s connection failed", self.source, exc_info=exc)
        if self.session is not None:
            await self.session.stop(f"server error: {type(exc).__name__}", status="aborted")
        await self._close(CLOSE_SERVER_ERROR, "server error")

    async def reply(self, data: dict[str, object]) -> None:
        """Answer the client (``started``), unless it has already left: then the next receive
        finds it gone and the call ends as a disconnect."""
        if self.reply_messages:
            await self._send(data)

    async def _send(self, data: dict[str, object]) -> None:
        if (
            self.ws.application_state is WebSocketState.CONNECTED
            and self.ws.client_state is WebSocketState.CONNECTED
        ):
            try:
                await self.ws.send_json(data)
            except (WebSocketDisconnect, RuntimeError, OSError) as exc:  # the client left as we answered
                log.info("%s: could not send %s: %r", self.source, data.get("type"), exc)

    async def _close(self, code: int, reason: str) -> None:
        if (
            self.ws.application_state is WebSocketState.CONNECTED
            and self.ws.client_state is WebSocketState.CONNECTED
        ):
            try:
                await self.ws.close(code, close_reason(reason))
            except (WebSocketDisconnect, RuntimeError, OSError) as exc:
                log.info("%s: close %d not delivered: %s", self.source, code, exc)


async def run_ingest(ws: WebSocket, call: IngestCall, handle: HandleFn, start_timeout: float) -> None:
    """Receive frames and hand them to ``handle`` until the call ends one way or another.

    ``handle(received) -> bool`` returns ``True`` when the client ended the call (stop). The call
    must have started within ``start_timeout`` s of the accept, whatever came before its start (a
    Twilio ``connected`` event held an unauthenticated socket open for ever)."""
    await ws.accept()
    loop = asyncio.get_running_loop()
    start_by = loop.time() + start_timeout
    try:
        while True:
            try:
                left = None if call.session is not None else max(0.0, start_by - loop.time())
                received = await asyncio.wait_for(receive(ws), left)
            except TimeoutError:
                raise IngestProtocolError(f"no start message within {start_timeout:g} s") from None
            if received.kind == "disconnect":
                await call.disconnected(received.code)
                return
            if await handle(received):
                return
    except IngestProtocolError as exc:
        await call.violated(exc)
    except IngestStorageError as exc:
        await call.storage_failed(exc)
    except WebSocketDisconnect as exc:  # the client left while the server was answering it
        await call.disconnected(exc.code)
    except asyncio.CancelledError:
        if call.session is not None:
            await asyncio.shield(call.session.stop("server shutdown", status="aborted"))
        raise
    except Exception as exc:
        await call.failed(exc)
