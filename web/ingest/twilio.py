"""``/ws/twilio``: Twilio Media Streams (protocol in :mod:`agent_monitor.ingest.twilio`).

Point a TwiML ``<Connect><Stream url="wss://HOST/ws/twilio">`` (or ``<Start><Stream
track="both_tracks">``) here, with ``<Parameter name="agent_id" value="..."/>`` and the other
call metadata as custom parameters. Both tracks become the call's two legs.

Twilio cannot send headers or a query string, so the ingest token travels as the custom
parameter ``<Parameter name="token" value="..."/>`` of the start event (checked before anything
of the call is opened); a client that can send ``Authorization: Bearer TOKEN`` may use that.
"""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from agent_monitor.errors import IngestProtocolError
from agent_monitor.ingest.twilio import TwilioConnection, TwilioMedia, TwilioStart, TwilioStop
from agent_monitor.ingest.ws_ingest import CLOSE_UNSUPPORTED_DATA
from web.auth.deps import ingest_token_ok, twilio_start_token_ok
from web.ingest.common import IngestCall, Received, run_ingest
from web.services import ServicesDep

router = APIRouter()


@router.websocket("/ws/twilio")
async def ws_twilio(websocket: WebSocket, services: ServicesDep) -> None:
    server = services.settings.server
    conn = TwilioConnection(
        max_payload_bytes=server.max_frame_bytes, max_gap_s=services.settings.live.leg_queue_s
    )
    call = IngestCall(websocket, services, "twilio", reply=False)
    authorized = ingest_token_ok(websocket)

    async def handle(received: Received) -> bool:
        nonlocal authorized
        if received.kind != "text":
            raise IngestProtocolError(
                "Twilio Media Streams sends JSON text frames only", CLOSE_UNSUPPORTED_DATA
            )
        if not authorized:
            authorized = twilio_start_token_ok(websocket, received.text)
        msg = conn.on_text(received.text)
        if isinstance(msg, TwilioMedia):
            call.push(msg.leg, msg.payload)
            if msg.gap_dropped:
                call.count_dropped(msg.leg, msg.gap_dropped)
        elif isinstance(msg, TwilioStart):
            await call.start(msg.call)
        elif isinstance(msg, TwilioStop):
            await call.stopped("stop")
            return True
        return False

    await run_ingest(websocket, call, handle, server.start_timeout_s)
