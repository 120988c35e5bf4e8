"""``/ws/ingest``: the documented ingest websocket (protocol in :mod:`agent_monitor.ingest.ws_ingest`).

The client presents the ingest token (``Authorization: Bearer TOKEN`` or ``?token=TOKEN``);
without it the socket is closed with 1008 before it is accepted."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from agent_monitor.errors import IngestProtocolError
from agent_monitor.ingest.ws_ingest import (
    CLOSE_UNSUPPORTED_DATA,
    DtmfMessage,
    IngestConnection,
    StartMessage,
)
from web.auth.deps import websocket_ingest_ok
from web.ingest.common import IngestCall, Received, run_ingest
from web.services import ServicesDep

router = APIRouter()


@router.websocket("/ws/ingest")
async def ws_ingest(websocket: WebSocket, services: ServicesDep) -> None:
    if not await websocket_ingest_ok(websocket):
        return
    server = services.settings.server
    conn = IngestConnection(max_frame_bytes=server.max_frame_bytes)
    call = IngestCall(websocket, services, "ws-ingest")

    async def handle(received: Received) -> bool:
        if received.kind == "bytes":
            for leg, data in conn.on_binary(received.data).items():
                call.push(leg, data)
            return False
        if received.kind != "text":
            raise IngestProtocolError("unexpected websocket message", CLOSE_UNSUPPORTED_DATA)
        msg = conn.on_text(received.text)
        if isinstance(msg, StartMessage):
            session = await call.start(msg)
            await call.reply({"type": "started", "call_id": session.call_id, "resumed": session.resumed})
            return False
        if isinstance(msg, DtmfMessage):  # a key the caller pressed: nothing to do for monitoring
            return False
        await call.stopped("stop")
        return True

    await run_ingest(websocket, call, handle, server.start_timeout_s)
