"""Websockets of the pages.

- ``/ws/ui/live``: the event bus for the signed-in user, as ``/ws/events`` sends it
  (:func:`web.events.stream_events`: the same access policy and masking). Optional ``call_id``
  (repeatable) narrows it. First frame ``{"type": "subscribed", "heartbeat_s": N}``, then
  ``{"type": "ping"}`` every ``web.live_heartbeat_s`` seconds besides the events (the pages mark
  themselves not live when nothing came for 2.5 x N). The session is re-checked every
  ``web.session_recheck_s`` seconds; after a logout or deactivation the socket is closed (1008).
- ``/ws/listen/{call_id}``: listen-in for supervisors and admins, read-only: the call's audio as
  it is recorded, relayed by tailing the per-leg recording files (no pipeline hook, nothing can be
  sent into the call; on a floor a call held by another node is read from ``cluster.shared_dir``,
  where every node's recordings are). First a JSON frame ``{"type": "audio", "sample_rate": R}``,
  then binary frames: one byte leg (0 agent, 1 debtor) + 16-bit little-endian mono PCM. Opening it
  is audited.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from agent_monitor.errors import AgentMonitorError, NotFoundError
from agent_monitor.ingest import close_reason
from agent_monitor.model.audio import Leg
from agent_monitor.model.events import Event
from agent_monitor.storage.recordings import read_recording, recording_path
from web.auth.deps import LIVE_VIEWERS, SUPERVISORS, CurrentUser, watch_session, websocket_user
from web.auth.scope import visible_call
from web.events import stream_events
from web.services import Services, ServicesDep
from web.ui.access import audit

router = APIRouter()
log = logging.getLogger(__name__)

LISTEN_POLL_S = 0.25
LEG_BYTE = {Leg.AGENT: b"\x00", Leg.DEBTOR: b"\x01"}


async def _drain(websocket: WebSocket, stop: Any) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass
    stop()


@router.websocket("/ws/ui/live")
async def ui_live(websocket: WebSocket, services: ServicesDep) -> None:
    user = await websocket_user(websocket, *LIVE_VIEWERS)
    if user is None:
        return
    await websocket.accept()
    only = set(websocket.query_params.getlist("call_id"))

    def wanted(event: Event) -> bool:
        return not only or event.call_id in only

    await stream_events(websocket, user, services, wanted, services.settings.web.live_heartbeat_s)


def _may_listen(services: Services, user: CurrentUser, call_id: str) -> str | None:
    """Why ``user`` may not listen in to ``call_id`` (``None``: they may; the listening is audited)."""
    with services.db.session() as s:
        try:
            visible_call(s, user, call_id)
        except NotFoundError as exc:
            return str(exc)
        if services.calls.get(call_id) is None:  # on a floor: held here or by another node
            return f"call {call_id} is not live"
        if services.manager.get(call_id) is None and services.settings.cluster.shared_dir is None:
            return f"call {call_id} is held by another node, whose recordings this node cannot read"
        audit(s, user, "listen_in", "call", call_id)
        return None


@dataclass
class _Listener:
    """What one listen-in client has been sent of each leg's recording so far."""

    websocket: WebSocket
    data_dir: Path
    call_id: str
    positions: dict[Leg, float] = field(default_factory=dict)
    rate: int | None = None

    async def send_new(self) -> bool:
        """Send the audio recorded since the last call (joining the call now, not from its start);
        whether anything was sent."""
        sent_any = False
        for leg in Leg:
            path = recording_path(self.data_dir, self.call_id, leg)
            if not path.exists():
                continue
            try:
                audio = await asyncio.to_thread(read_recording, path, start_s=self.positions.get(leg, 0.0))
            except AgentMonitorError as exc:
                log.info("listen-in %s: %s", self.call_id, exc)
                continue
            if leg not in self.positions:
                self.positions[leg] = audio.start + audio.duration
                if self.rate is None:
                    self.rate = audio.sample_rate
                    await self.websocket.send_json(
                        {"type": "audio", "sample_rate": self.rate, "call_id": self.call_id}
                    )
                continue
            if audio.pcm:
                self.positions[leg] = audio.start + audio.duration
                await self.websocket.send_bytes(LEG_BYTE[leg] + audio.pcm)
                sent_any = True
        return sent_any


@router.websocket("/ws/listen/{call_id:path}")
async def listen(websocket: WebSocket, call_id: str, services: ServicesDep) -> None:
    user = await websocket_user(websocket, *SUPERVISORS)
    if user is None:
        return
    problem = await asyncio.to_thread(_may_listen, services, user, call_id)
    if problem is not None:
        await websocket.close(1008, close_reason(problem))
        return
    await websocket.accept()
    stopped = asyncio.Event()
    watcher = asyncio.create_task(_drain(websocket, stopped.set))
    every = services.settings.web.session_recheck_s
    session_watch = asyncio.create_task(watch_session(websocket, user, every, stopped.set))
    listener = _Listener(websocket, services.settings.media_dir, call_id)
    try:
        while not stopped.is_set():
            live = services.calls.get(call_id) is not None
            if not await listener.send_new() and not live:
                await websocket.send_json({"type": "ended", "call_id": call_id})
                await websocket.close(1000)
                break
            await asyncio.sleep(LISTEN_POLL_S)
    except (WebSocketDisconnect, RuntimeError, OSError) as exc:
        log.info("listen-in client left: %r", exc)
    finally:
        for task in (watcher, session_watch):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
