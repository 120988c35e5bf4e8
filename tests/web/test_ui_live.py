"""The pages' websockets on a real server with a replayed call: an excerpt of the real phone call
of the shared data with a scripted agent insult rendered by espeak-ng (**synthetic** speech),
streamed through ``/ws/ingest`` into the real pipeline (Vosk, rules, storage) at twice real time,
hung up once the supervisor has the hand-off (nothing later in the call is checked).

Checks: ``/ws/ui/live`` gives each user only the events of calls in their scope (agent: own
calls; supervisor: their team's), and ``/ws/listen/{call}`` relays the call's audio read-only to
supervisors only (audited)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent_monitor.ingest.call_audio import CallAudio, load_call_audio, synthetic_speech
from agent_monitor.model.audio import Leg
from agent_monitor.settings import Settings
from agent_monitor.storage import repo
from tests.web.ui_support import login, replay_until, ui_server

VIOLATION = "you are a stupid idiot. we will break your legs"
CALL = "ui-live-1"


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, base_settings: Settings, eval_data: Path
) -> Iterator[tuple[str, Any]]:
    with ui_server(base_settings, tmp_path_factory.mktemp("ui-live")) as running:
        yield running


@pytest.fixture(scope="module")
def scripted_call(eval_data: Path) -> CallAudio:
    real = load_call_audio(eval_data / "calls" / "spokenwoz" / "MUL1011.opus", 8000)
    return real.excerpt(0.0, 14.0).splice(Leg.AGENT, synthetic_speech(VIOLATION, 8000), 5.0, VIOLATION)


def session_cookie(url: str, user: str) -> str:
    with httpx.Client(base_url=url) as c:
        login(c, user)
        return "; ".join(f"{k}={v}" for k, v in c.cookies.items())


class Listener:
    """Collects what one user's websocket receives in the background."""

    def __init__(self, url: str, cookie: str) -> None:
        self.url, self.cookie = url, cookie
        self.texts: list[dict[str, Any]] = []
        self.binary: list[bytes] = []
        self.close_code: int | None = None
        self.ready = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidStatus

        try:
            async with connect(self.url, additional_headers={"Cookie": self.cookie}) as ws:
                async for message in ws:
                    if isinstance(message, bytes):
                        self.binary.append(message)
                        continue
                    data = json.loads(message)
                    self.texts.append(data)
                    if data["type"] in ("subscribed", "audio"):
                        self.ready.set()
            self.close_code = ws.close_code  # closed by the server normally (1000: the loop ends)
        except ConnectionClosed as exc:
            self.close_code = exc.rcvd.code if exc.rcvd else 1006
        except InvalidStatus as exc:  # closed before the handshake completed: HTTP 403
            self.close_code = exc.response.status_code
        finally:
            self.ready.set()

    def start(self) -> None:
        self.task = asyncio.create_task(self.run())

    async def stop(self) -> None:
        assert self.task is not None
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task

    def of_call(self, type_: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.texts if e.get("call_id") == CALL and (type_ is None or e["type"] == type_)]


def test_live_events_and_listen_in_follow_the_scope(
    server: tuple[str, Any], scripted_call: CallAudio
) -> None:
    url, app = server
    services = app.state.services
    ws = url.replace("http://", "ws://")
    cookies = {u: session_cookie(url, u) for u in ("agent1", "agent2", "sup1", "sup2")}

    async def run() -> tuple[dict[str, Listener], Listener, Listener, Any, dict[str, Any]]:
        live = {u: Listener(ws + "/ws/ui/live", c) for u, c in cookies.items()}
        for listener in live.values():
            listener.start()
        await asyncio.gather(*(asyncio.wait_for(x.ready.wait(), 10) for x in live.values()))
        hang_up = threading.Event()  # once the hand-off is seen: nothing later in the call is checked
        start = {"call_id": CALL, "agent_id": "A-1"}
        stream = asyncio.create_task(replay_until(url, app, scripted_call, start, hang_up, speed=2.0))
        while services.manager.get(CALL) is None:
            await asyncio.sleep(0.05)
        sup_listen = Listener(f"{ws}/ws/listen/{CALL}", cookies["sup1"])
        agent_listen = Listener(f"{ws}/ws/listen/{CALL}", cookies["agent1"])
        sup_listen.start()
        agent_listen.start()
        async with httpx.AsyncClient(base_url=url) as http:
            walls = {
                u: (await http.get("/api/wall", headers={"Cookie": cookies[u]})).json()["calls"]
                for u in ("sup1", "sup2")
            }
        while not live["sup1"].of_call("handoff_requested") and not stream.done():
            await asyncio.sleep(0.05)
        async with httpx.AsyncClient(base_url=url) as http:
            later = (await http.get("/api/wall", headers={"Cookie": cookies["sup1"]})).json()["calls"]
        walls["handoffs"] = later[0]["handoffs"] if later else []
        hang_up.set()
        result = await stream
        for _ in range(200):
            if live["sup1"].of_call("call_ended") and sup_listen.close_code is not None:
                break
            await asyncio.sleep(0.1)
        for listener in [*live.values(), sup_listen, agent_listen]:
            await listener.stop()
        return live, sup_listen, agent_listen, result, walls

    live, sup_listen, agent_listen, result, walls = asyncio.run(run())
    # the live wall: the call is on its team's supervisor's wall only
    assert [c["call"]["call_id"] for c in walls["sup1"]] == [CALL] and walls["sup2"] == []
    # a red call is handed off: the wall lists the open hand-off (a page opened now pops it up)
    handoffs = live["sup1"].of_call("handoff_requested")
    assert handoffs and live["agent2"].of_call("handoff_requested") == []
    assert walls["handoffs"] == [
        {"alert_id": handoffs[0]["alert_id"], "call_id": CALL, "agent_id": "A-1", "escalated": False}
    ]
    assert result.completed, (result.close_code, result.close_reason)
    sup = live["sup1"]
    assert sup.of_call("call_started") and sup.of_call("call_ended")
    assert any(e["final"] for e in sup.of_call("transcript")) and any(
        not e["final"] for e in sup.of_call("transcript")
    )
    assert sup.of_call("alert_raised"), [e["type"] for e in sup.of_call()]
    warnings = live["agent1"].of_call("agent_warning")
    assert warnings and all(w["agent_id"] == "A-1" for w in warnings) and warnings[0]["compliant"]
    # another agent, and the supervisor of another team, see nothing of this call
    assert live["agent2"].of_call() == [] and live["sup2"].of_call() == []
    # listen-in: the supervisor hears both legs; the agent is refused
    assert sup_listen.texts[0] == {"type": "audio", "sample_rate": 8000, "call_id": CALL}
    # the relay ends with the call: the last frame says so, then a normal close
    assert sup_listen.texts[-1] == {"type": "ended", "call_id": CALL}
    assert sup_listen.close_code == 1000, sup_listen.close_code
    legs = {frame[0] for frame in sup_listen.binary}
    assert legs == {0, 1} and all(len(f) % 2 == 1 for f in sup_listen.binary)
    heard = sum(len(f) - 1 for f in sup_listen.binary) / 2 / 8000
    assert heard > 5.0, heard  # seconds of audio relayed over both legs
    assert agent_listen.close_code == 403 and not agent_listen.binary and not agent_listen.texts
    with services.db.session() as s:
        assert [a.actor for a in repo.list_audit(s, action="listen_in", object_id=CALL)] == ["sup1"]
