"""Session 39's sweep of the live ingest protocols with bad and unusual input, on a real server
(uvicorn on 127.0.0.1, the real Vosk model, SQLite): each test failed on the code before its fix.

- ``/ws/ingest``: a stop message whose ``reason`` was ``null`` or a number was refused, so a call
  the client ended properly was stored as aborted.
- ``/ws/ingest``, ``/ws/twilio``, AudioSocket: a protocol problem quoting what the client sent (a
  200,000-character message type) was written whole to the warning log.
- ``/ws/ingest``: a ``dtmf`` text message between the audio frames (jambonz ``listen`` with
  ``passDtmf`` sends one for every key the caller presses) closed the connection as an unknown
  message type, so the rest of the call went unmonitored.
- ``/ws/twilio``: a start event whose ``callSid`` was ``null`` or an object made the call id
  ``None`` or ``{...}``, so every such stream went into that one call (a later one resumed it).
- ``/ws/twilio``: a ``connected`` event, which passes before the ingest token is checked, reset
  the start timeout: a client that sent it and nothing else held the socket open for ever.
- ``/ws/twilio``: a start event naming a track twice was refused for "customParameters: channels:
  each leg may be mapped to one channel only", fields the stream never sent.
- AudioSocket: audio of a newer Asterisk at 16 kHz (kind 0x12) was refused as an "unknown frame
  kind", which did not say that the sample rate was the problem.
- ``POST /api/audiosocket/register`` of a call with another sample rate or encoding than
  AudioSocket's was a 409 (a conflict), not the 422 of bad input."""

from __future__ import annotations

import asyncio
import json
import struct
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
from pydantic import SecretStr
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from agent_monitor.compose import create_app
from agent_monitor.errors import NotFoundError
from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.ingest.twilio import media_message, start_message
from agent_monitor.model.audio import Leg
from agent_monitor.settings import Settings
from agent_monitor.storage import CallStatus, repo
from agent_monitor.storage.recordings import read_recording, recording_path
from tests.web.live_support import LiveServer
from tests.web.ui_support import serve

TOKEN = "sweep-ingest-token-0123456789abcdef"
START_TIMEOUT_S = 2.0
CONNECTED = json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, base_settings: Settings) -> Iterator[LiveServer]:
    settings = base_settings.model_copy(
        update={
            "data_dir": tmp_path_factory.mktemp("sweep") / "data",
            "server": base_settings.server.model_copy(
                update={"audiosocket_port": 0, "start_timeout_s": START_TIMEOUT_S}
            ),
            "web": base_settings.web.model_copy(update={"ingest_token": SecretStr(TOKEN)}),
        }
    )
    app = create_app(settings)
    with serve(app) as url:
        yield LiveServer(url, settings, app.state.services, TOKEN)


async def _closed(ws: Any) -> tuple[list[str], int | None, str]:
    """What the server sent until it closed the connection, and its close code and reason."""
    got: list[str] = []
    try:
        while True:
            got.append(str(await asyncio.wait_for(ws.recv(), 30)))
    except ConnectionClosed:
        return got, ws.close_code, ws.close_reason


def _stored_status(server: LiveServer, call_id: str) -> CallStatus | None:
    """The call's stored status once it is no longer live (None: never stored)."""
    deadline = time.monotonic() + 30
    while server.services.manager.get(call_id) is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    with server.services.db.session() as s:
        try:
            return repo.get_call(s, call_id).status
        except NotFoundError:
            return None


def _stereo(audio: CallAudio, start_s: float, seconds: float) -> tuple[list[bytes], bytes]:
    """20 ms interleaved L16 frames of ``audio`` and the agent leg's samples in them."""
    first, n = int(start_s * 8000), int(seconds * 8000)
    agent, debtor = audio.agent[first : first + n], audio.debtor[first : first + n]
    pcm = np.stack([agent, debtor], axis=1).astype("<i2").tobytes()
    return [pcm[i : i + 640] for i in range(0, len(pcm), 640)], agent.astype("<i2").tobytes()


def test_a_dtmf_message_between_audio_frames_keeps_the_call_going(
    server: LiveServer, real_call: CallAudio
) -> None:
    call_id = "sweep-dtmf-" + uuid.uuid4().hex[:8]
    before, agent_before = _stereo(real_call, 10.0, 2.0)
    after, agent_after = _stereo(real_call, 12.0, 2.0)
    start = {"type": "start", "call_id": call_id, "agent_id": "A-SWEEP", "encoding": "L16"}
    dtmf = {"event": "dtmf", "dtmf": "1", "duration": "1600"}  # as jambonz sends a pressed key

    async def run() -> tuple[list[str], int | None, str]:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with connect(server.ws + "/ws/ingest", additional_headers=headers) as ws:
            await ws.send(json.dumps(start))
            for frame in before:
                await ws.send(frame)
            await ws.send(json.dumps(dtmf))
            for frame in after:
                await ws.send(frame)
            await ws.send(json.dumps({"type": "stop"}))
            return await _closed(ws)

    got, code, reason = asyncio.run(run())
    assert (code, reason) == (1000, "call stopped")
    assert [json.loads(m)["type"] for m in got] == ["started", "stopped"]
    assert _stored_status(server, call_id) is CallStatus.ENDED
    stored = read_recording(recording_path(server.settings.data_dir, call_id, Leg.AGENT)).pcm
    assert stored == agent_before + agent_after  # the audio after the key press is kept too


@pytest.mark.parametrize("reason", [None, 7, {"code": "hangup"}])
def test_a_stop_whose_reason_is_not_text_still_ends_the_call(
    server: LiveServer, real_call: CallAudio, reason: Any
) -> None:
    """The reason is the client's note: ``null`` (a serializer's missing value) refused the stop, so
    a call the client ended properly was stored as aborted."""
    call_id = "sweep-stop-" + uuid.uuid4().hex[:8]
    frames, _ = _stereo(real_call, 10.0, 1.0)

    async def run() -> tuple[list[str], int | None, str]:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with connect(server.ws + "/ws/ingest", additional_headers=headers) as ws:
            await ws.send(json.dumps({"type": "start", "call_id": call_id, "agent_id": "A-SWEEP"}))
            for frame in frames:
                await ws.send(frame)
            await ws.send(json.dumps({"type": "stop", "reason": reason}))
            return await _closed(ws)

    got, code, close = asyncio.run(run())
    assert (code, close) == (1000, "call stopped")
    assert [json.loads(m)["type"] for m in got] == ["started", "stopped"]
    assert _stored_status(server, call_id) is CallStatus.ENDED


def test_a_huge_message_type_is_not_written_whole_to_the_log(
    server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The problem quotes what the client sent: a 200,000-character message type was one log line
    as large (the close reason was already cut to a frame's 123 bytes)."""
    kind = "x" * 200_000

    async def run() -> tuple[list[str], int | None, str]:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with connect(server.ws + "/ws/ingest", additional_headers=headers, max_size=None) as ws:
            await ws.send(json.dumps({"type": kind}))
            return await _closed(ws)

    with caplog.at_level("WARNING"):
        got, code, _ = asyncio.run(run())
        deadline = time.monotonic() + 10
        while not any("connection closed" in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline, "the protocol problem was not logged"
            time.sleep(0.05)
    assert (got, code) == ([], 1008)
    [logged] = [r.getMessage() for r in caplog.records if "connection closed" in r.getMessage()]
    assert "unknown message type" in logged and "200,0" in logged and len(logged) < 600


def test_a_dtmf_message_before_the_start_is_out_of_order(server: LiveServer) -> None:
    async def run() -> tuple[list[str], int | None, str]:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with connect(server.ws + "/ws/ingest", additional_headers=headers) as ws:
            await ws.send(json.dumps({"event": "dtmf", "dtmf": "1"}))
            return await _closed(ws)

    assert asyncio.run(run()) == ([], 1008, "dtmf message received while awaiting start")


@pytest.mark.parametrize("call_sid", [None, {"sid": "CA1"}, 12345])
def test_a_twilio_start_without_a_call_sid_string_is_refused(server: LiveServer, call_sid: Any) -> None:
    """No call id made from it: ``None``, ``{'sid': 'CA1'}`` and ``12345`` were stored as calls."""
    stream = "MZ" + uuid.uuid4().hex
    start = start_message(stream, "CA-placeholder", {"agent_id": "A-SWEEP", "token": TOKEN})
    start["start"]["callSid"] = call_sid
    media = media_message(stream, "inbound", 2, 1, 0, bytes(160))

    async def run() -> tuple[list[str], int | None, str]:
        async with connect(server.ws + "/ws/twilio") as ws:
            for message in (CONNECTED, json.dumps(start), json.dumps(media)):
                await ws.send(message)
            return await _closed(ws)

    got, code, reason = asyncio.run(run())
    assert (got, code, reason) == ([], 1008, "start event: callSid must be a non-empty string")
    for stored_as in ("None", "{'sid': 'CA1'}", "12345"):
        assert _stored_status(server, stored_as) is None


def test_a_twilio_start_naming_a_track_twice_is_refused_naming_the_tracks(server: LiveServer) -> None:
    """The reason named ``customParameters`` and a ``channels`` field the stream never sent."""
    stream = "MZ" + uuid.uuid4().hex
    start = start_message(stream, "CA" + uuid.uuid4().hex, {"agent_id": "A-SWEEP", "token": TOKEN})
    start["start"]["tracks"] = ["inbound", "inbound"]

    async def run() -> tuple[list[str], int | None, str]:
        async with connect(server.ws + "/ws/twilio") as ws:
            await ws.send(CONNECTED)
            await ws.send(json.dumps(start))
            return await _closed(ws)

    reason = "start event: tracks must be inbound and/or outbound, each once, not ['inbound', 'inbound']"
    assert asyncio.run(run()) == ([], 1008, reason)


def test_a_twilio_stream_that_never_starts_is_closed_after_the_start_timeout(server: LiveServer) -> None:
    """Without the ingest token (Twilio gives it in the start event, after ``connected``)."""

    async def run() -> tuple[float, tuple[list[str], int | None, str]]:
        async with connect(server.ws + "/ws/twilio") as ws:
            t0 = time.monotonic()
            await ws.send(CONNECTED)
            closed = await _closed(ws)
            return time.monotonic() - t0, closed

    waited, closed = asyncio.run(run())
    assert closed == ([], 1008, f"no start message within {START_TIMEOUT_S:g} s")
    assert START_TIMEOUT_S - 0.5 < waited < START_TIMEOUT_S + 5


@pytest.mark.parametrize("call", [{"sample_rate": 16000}, {"encoding": "mulaw"}, {"encoding": "alaw"}])
def test_an_audiosocket_registration_of_another_audio_format_is_bad_input(
    server: LiveServer, call: dict[str, Any]
) -> None:
    """422 naming what to send (bad input), not the 409 of a conflict with another registration."""
    body = {
        "uuid": str(uuid.uuid4()),
        "leg": "agent",
        "call": {"call_id": "sweep-as", "agent_id": "A", **call},
    }
    r = httpx.post(
        server.url + "/api/audiosocket/register", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert r.status_code == 422, r.text
    assert "AudioSocket audio is L16 at 8000 Hz" in r.json()["detail"]
    assert len(server.services.registry) == 0


def test_audiosocket_audio_at_another_rate_is_refused_naming_the_rate(server: LiveServer) -> None:
    """Newer Asterisk versions send 16 kHz signed linear as kind 0x12: the error frame says so
    (it said "unknown AudioSocket frame kind 0x12")."""
    audiosocket = server.services.audiosocket
    assert audiosocket is not None and audiosocket.port is not None
    port = audiosocket.port
    value = uuid.uuid4().bytes[:-1] + b"\x00"  # the agent leg by the UUID convention

    async def run() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(struct.pack(">BH", 0x01, 16) + value + struct.pack(">BH", 0x12, 640) + bytes(640))
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 30)  # the error frame, then the close
        writer.close()
        return answer

    answer = asyncio.run(run())
    kind, length = struct.unpack(">BH", answer[:3])
    assert (kind, answer[3 : 3 + length].decode()) == (
        0xFF,
        "AudioSocket audio at 16 kHz (kind 0x12) is not taken: this server takes 8 kHz signed linear "
        "audio (kind 0x10)",
    )
