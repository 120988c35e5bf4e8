"""Two connections of one call at nearly the same moment on ``/ws/ingest`` (a real server, real
Vosk, SQLite): a client that reconnects while its dropped connection's call is still stopping."""

from __future__ import annotations

import asyncio
import json

import numpy as np
from websockets.asyncio.client import connect

from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.ingest.client import auth_headers
from agent_monitor.model.audio import Leg
from agent_monitor.storage import CallStatus, repo
from agent_monitor.storage.recordings import read_recording, recording_path
from tests.web.live_support import LiveServer


def _start(call_id: str) -> str:
    return json.dumps(
        {
            "type": "start",
            "call_id": call_id,
            "agent_id": "A-3",
            "sample_rate": 8000,
            "encoding": "L16",
            "channels": ["agent", "debtor"],
        }
    )


def _frames(audio: CallAudio) -> list[bytes]:
    both = np.stack([audio.agent, audio.debtor], axis=1).astype("<i2").tobytes()
    return [both[i : i + 640] for i in range(0, len(both), 640)]


async def _wait_stopping(server: LiveServer, call_id: str) -> None:
    """Until the server has seen the first connection go and the call is stopping."""
    for _ in range(300):
        session = server.services.manager.get(call_id)
        if session is not None and session.closed:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"call {call_id} did not start stopping")


def test_a_client_reconnecting_while_its_call_stops_resumes_it(
    live_server: LiveServer, real_call: CallAudio
) -> None:
    """The first connection sends 10 s of speech at once and drops; the client reconnects with the
    same call id while the server is still recognising that audio (the call is stopping). The call is
    resumed once stopped and the second connection's audio is recorded after the first's (it used to
    be refused with 1008 "call ... is already live" and its audio lost)."""
    call_id = "race-resume-1"
    first, second = real_call.excerpt(30.0, 10.0), real_call.excerpt(40.0, 3.0)

    async def run() -> dict[str, object]:
        headers = auth_headers(live_server.token)
        async with connect(live_server.ws + "/ws/ingest", additional_headers=headers) as ws:
            await ws.send(_start(call_id))
            assert json.loads(await ws.recv())["type"] == "started"
            for frame in _frames(first):
                await ws.send(frame)
        await _wait_stopping(live_server, call_id)
        async with connect(live_server.ws + "/ws/ingest", additional_headers=headers) as ws:
            await ws.send(_start(call_id))
            reply = json.loads(await asyncio.wait_for(ws.recv(), 60))
            for frame in _frames(second):
                await ws.send(frame)
            await ws.send(json.dumps({"type": "stop"}))
            async for message in ws:
                assert json.loads(message)["type"] == "stopped"
        return reply

    reply = asyncio.run(run())
    assert reply == {"type": "started", "call_id": call_id, "resumed": True}, reply
    assert live_server.services.manager.get(call_id) is None
    for leg in Leg:
        got = read_recording(recording_path(live_server.settings.data_dir, call_id, leg)).pcm
        assert got == first.leg(leg).astype("<i2").tobytes() + second.leg(leg).astype("<i2").tobytes()
    with live_server.services.db.session() as s:
        assert repo.get_call(s, call_id).status is CallStatus.ENDED
        assert all(r.closed_at is not None and r.sha256 for r in repo.list_recordings(s, call_id))
