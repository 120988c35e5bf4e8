"""``/ws/events``: the event bus as JSON over a websocket, for signed-in users.

Each user gets only the events of the calls the access policy lets them see
(:mod:`web.auth.scope` through :mod:`web.auth.live_scope`, the same rule as the REST API and
``/ws/ui/live``): an agent their own calls, a supervisor their team's, QA only ``call_ended`` and
``qa_queued`` of flagged calls, an admin everything. :func:`stream_events` is shared with
``/ws/ui/live``. Without a session (or from a foreign ``Origin``) the socket
is closed with 1008 before it is accepted.

Query parameters narrow the stream: ``call_id`` (repeatable), ``agent_id`` (events of that
agent's calls, as far as the event names the agent: alerts, warnings, handoffs, call start),
``types`` (comma-separated event type names, e.g. ``alert_raised,agent_warning``). The server
first sends ``{"type": "subscribed"}`` (events published after it are delivered), then one text
frame per event, ``event.to_dict()``, with personal data (debtor phone, debt id, numbers in transcripts,
evidence and reasons) masked for the roles :mod:`web.masking` masks for, as on ``/ws/ui/live``
and the REST API. On a floor (Redis bus) frames carry ``stream_id`` and ``since=ID`` first sends
the critical events missed after it (:mod:`web.resume`). Non-critical events may be dropped
for a slow client (the bus's overflow policy); alerts never are. The session is re-checked
every ``web.session_recheck_s`` seconds: after a logout, a deactivation or a password or role
change the socket is closed with 1008 ("session ended").
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from datetime import datetime
from enum import Enum
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from agent_monitor.errors import ClusterError, InvalidRequestError
from agent_monitor.ingest import close_reason
from agent_monitor.model.events import EVENT_TYPES, CallStarted, Event
from agent_monitor.model.roles import Role
from agent_monitor.pipeline.bus import EventFilter
from web.auth.deps import CurrentUser, watch_session, websocket_user
from web.auth.live_scope import LiveScope, NobodyWaits
from web.auth.scope import masks
from web.heartbeat import Sender
from web.resume import missed_events, order, stream_id
from web.services import Services, ServicesDep
from web.ui.serialize import event_masked

router = APIRouter()
log = logging.getLogger(__name__)


def event_filter(call_ids: set[str], agent_id: str | None, types: set[str]) -> EventFilter:
    def wanted(event: Event) -> bool:
        if call_ids and event.call_id not in call_ids:
            return False
        if types and event.type not in types:
            return False
        if agent_id is not None:
            owner = (
                event.info.agent_id if isinstance(event, CallStarted) else getattr(event, "agent_id", None)
            )
            return owner == agent_id
        return True

    return wanted


def _fallback(value: Any) -> Any:
    """JSON for values an event's ``to_dict`` left as objects (nested dataclasses, enums, times)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def event_json(event: Event, sid: str | None = None) -> str:
    data = event.to_dict() if sid is None else {**event.to_dict(), "stream_id": sid}
    return json.dumps(data, default=_fallback, ensure_ascii=False, separators=(",", ":"))


@router.websocket("/ws/events")
async def ws_events(websocket: WebSocket, services: ServicesDep) -> None:
    user = await websocket_user(websocket, *Role)
    if user is None:
        return
    params = websocket.query_params
    types = {t.strip() for t in params.get("types", "").split(",") if t.strip()}
    unknown = types - set(EVENT_TYPES)
    await websocket.accept()
    if unknown:
        # a close frame holds at most 123 bytes of reason (a longer one failed with a traceback, the
        # client got no code): the list of unknown types is shortened to fit
        await websocket.close(1008, close_reason(f"unknown event types: {', '.join(sorted(unknown))}"))
        return
    wanted = event_filter(set(params.getlist("call_id")), params.get("agent_id"), types)
    await stream_events(websocket, user, services, wanted)


async def _send(sender: Sender, scope: LiveScope, event: Event, sid: str | None, masked: bool) -> None:
    if await scope.allows(event):
        text = event_json(event, sid)
        if masked:
            text = json.dumps(event_masked(json.loads(text)), ensure_ascii=False)
        await sender.send_text(text)


async def stream_events(
    websocket: WebSocket,
    user: CurrentUser,
    services: Services,
    wanted: EventFilter,
    heartbeat_s: float | None = None,
) -> None:
    """Send the accepted ``websocket`` the bus events ``wanted`` that the access policy lets
    ``user`` see (:class:`LiveScope`), masked for masked roles, after ``{"type": "subscribed"}``;
    until the client leaves or the session ends (both websockets of the pages and API use this).
    With ``heartbeat_s``, ``{"type": "ping"}`` every ``heartbeat_s`` seconds too (named in the
    first frame), so that a client notices a server that stopped answering."""
    masked = masks(websocket, user)
    sender = Sender(websocket)
    with services.bus.subscribe(wanted) as sub:
        scope = LiveScope(user, services, gone=lambda: sub.closed)
        hello: dict[str, object] = {"type": "subscribed"}
        if heartbeat_s is not None:
            hello["heartbeat_s"] = heartbeat_s
        await sender.send_text(json.dumps(hello))

        async def watch_client() -> None:
            # the client sends nothing we need; reading notices when it leaves
            with contextlib.suppress(WebSocketDisconnect):
                while (await websocket.receive())["type"] != "websocket.disconnect":
                    pass
            sub.close()

        watcher = asyncio.create_task(watch_client())
        every = services.settings.web.session_recheck_s
        session_watch = asyncio.create_task(watch_session(websocket, user, every, sub.close))
        pings = asyncio.create_task(sender.heartbeat(heartbeat_s, sub.close)) if heartbeat_s else None
        try:
            missed = await missed_events(services.bus, websocket.query_params.get("since"), wanted)
            upto = order(missed[-1][0]) if missed else (0, 0)
            for missed_id, event in missed:
                await _send(sender, scope, event, missed_id, masked)
            async for event in sub:
                if session_watch.done():  # logged out or deactivated: nothing more is sent
                    break
                sid = stream_id(services.bus, event)
                if sid is None or order(sid) > upto:  # not already sent as missed
                    await _send(sender, scope, event, sid, masked)
        except InvalidRequestError as exc:
            await websocket.close(1008, close_reason(str(exc)))
        except ClusterError as exc:  # try again later (1011), not a client fault
            log.warning("events client not resumed: %s", exc)
            await websocket.close(1011, close_reason(str(exc)))
        except (WebSocketDisconnect, RuntimeError, OSError) as exc:
            log.info("events client left: %r", exc)
        except NobodyWaits:
            log.info("events client left while an event waited for the database")
        finally:
            scope.close()
            for task in (watcher, session_watch, pings):
                if task is None:
                    continue
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
