"""Asterisk AudioSocket over real TCP on 127.0.0.1: two connections (agent and debtor legs) joined
into one call by the UUID convention or by registration, and a malformed connection refused."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
import uuid
from pathlib import Path

import httpx
import numpy as np
import pytest

from agent_monitor.compose import create_app
from agent_monitor.ingest.audiosocket import Kind, encode_frame, read_frame, uuid_frame
from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.model.audio import Leg
from agent_monitor.settings import Settings
from agent_monitor.storage import CallStatus, Database, repo
from agent_monitor.storage.recordings import read_recording, recording_path
from tests.web.live_support import LiveServer
from tests.web.ui_support import serve


async def send_leg(port: int, leg_uuid: uuid.UUID, samples: np.ndarray, *, hangup: bool = True) -> bytes:
    """Act as Asterisk for one leg: UUID, 20 ms slin frames in real time, hangup."""
    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(uuid_frame(leg_uuid))
    sent = bytearray()
    start = time.monotonic()
    for i in range(0, len(samples), 160):
        payload = samples[i : i + 160].astype("<i2").tobytes()
        writer.write(encode_frame(Kind.AUDIO, payload))
        sent += payload
        await writer.drain()
        delay = start + (i // 160 + 1) * 0.02 / 2.0 - time.monotonic()  # 2x real time
        if delay > 0:
            await asyncio.sleep(delay)
    if hangup:
        writer.write(encode_frame(Kind.HANGUP))
        await writer.drain()
    writer.close()
    await writer.wait_closed()
    return bytes(sent)


async def wait_gone(server: LiveServer, call_id: str) -> None:
    for _ in range(300):
        if server.services.manager.get(call_id) is None:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{call_id} still live")


def recorded(server: LiveServer, call_id: str, leg: Leg) -> bytes:
    return read_recording(recording_path(server.settings.data_dir, call_id, leg)).pcm


def _one_call_by_convention(server: LiveServer) -> tuple[int, uuid.UUID, uuid.UUID, str]:
    """The AudioSocket port, the agent and debtor UUIDs of one call by the UUID convention (last
    byte 00 and 01), and that call's id."""
    port = server.services.audiosocket.port  # type: ignore[union-attr]
    assert port
    base = uuid.uuid4().bytes[:-1]
    agent_uuid, debtor_uuid = uuid.UUID(bytes=base + b"\x00"), uuid.UUID(bytes=base + b"\x01")
    return port, agent_uuid, debtor_uuid, f"audiosocket-{agent_uuid}"


def test_two_legs_joined_by_uuid_convention(live_server: LiveServer, real_call: CallAudio) -> None:
    port, agent_uuid, debtor_uuid, call_id = _one_call_by_convention(live_server)
    audio = real_call.excerpt(20.0, 20.0)

    async def run() -> tuple[bytes, bytes, bytes, Kind | None, uuid.UUID]:
        # a malformed connection at the same time: unknown frame kind after its UUID
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        bad_uuid = uuid.UUID(bytes=uuid.uuid4().bytes[:-1] + b"\x00")
        writer.write(uuid_frame(bad_uuid) + encode_frame(Kind.AUDIO, b"\x00\x00" * 160))
        writer.write(b"\x42\x00\x00")
        await writer.drain()
        error = await read_frame(reader)
        assert await reader.read() == b""  # closed by the server
        writer.close()
        a, d = await asyncio.gather(
            send_leg(port, agent_uuid, audio.agent), send_leg(port, debtor_uuid, audio.debtor)
        )
        await wait_gone(live_server, call_id)
        await wait_gone(live_server, f"audiosocket-{bad_uuid}")
        return a, d, error.payload if error else b"", error.kind if error else None, bad_uuid

    sent_a, sent_d, error_text, error_kind, bad_uuid = asyncio.run(run())
    assert error_kind is Kind.ERROR and b"unknown AudioSocket frame kind 0x42" in error_text
    # the malformed connection's call keeps what came before the bad frame
    with live_server.services.db.session() as s:
        assert repo.get_call(s, f"audiosocket-{bad_uuid}").status is CallStatus.ABORTED
    assert recorded(live_server, f"audiosocket-{bad_uuid}", Leg.AGENT) == b"\x00\x00" * 160
    with live_server.services.db.session() as s:
        call = repo.get_call(s, call_id)
        assert call.status is CallStatus.ENDED and call.source_protocol == "audiosocket"
        assert call.agent_id == live_server.settings.server.audiosocket_agent
        utts = repo.list_utterances(s, call_id, final_only=True)
        assert {u.leg for u in utts} == {Leg.AGENT, Leg.DEBTOR}
    assert recorded(live_server, call_id, Leg.AGENT) == sent_a
    assert recorded(live_server, call_id, Leg.DEBTOR) == sent_d


def test_registered_uuid_and_disconnect_without_hangup(live_server: LiveServer, real_call: CallAudio) -> None:
    port = live_server.services.audiosocket.port  # type: ignore[union-attr]
    assert port
    leg_uuid = uuid.uuid4()
    reply = httpx.post(
        live_server.url + "/api/audiosocket/register",
        json={
            "uuid": str(leg_uuid),
            "leg": "debtor",
            "call": {"call_id": "as-reg-1", "agent_id": "A-5", "debtor_tz": "Europe/London"},
        },
        headers={"Authorization": f"Bearer {live_server.token}"},
    )
    assert reply.status_code == 200, reply.text
    bad = httpx.post(
        live_server.url + "/api/audiosocket/register",
        json={"uuid": str(uuid.uuid4()), "leg": "agent", "call": {"call_id": "x"}},
        headers={"Authorization": f"Bearer {live_server.token}"},
    )
    assert bad.status_code == 422 and "agent_id" in bad.json()["detail"]
    audio = real_call.excerpt(50.0, 4.0)

    async def run() -> bytes:
        sent = await send_leg(port, leg_uuid, audio.debtor, hangup=False)
        await wait_gone(live_server, "as-reg-1")
        return sent

    sent = asyncio.run(run())
    with live_server.services.db.session() as s:
        call = repo.get_call(s, "as-reg-1")
        assert (
            call.status is CallStatus.ABORTED and call.agent_id == "A-5" and call.debtor_tz == "Europe/London"
        )
    assert recorded(live_server, "as-reg-1", Leg.DEBTOR) == sent
    assert recorded(live_server, "as-reg-1", Leg.AGENT) == b""


def test_a_leg_that_connects_while_its_call_stops_resumes_it(
    live_server: LiveServer, real_call: CallAudio
) -> None:
    """The agent leg hangs up; the debtor leg of the same call connects the moment the server has
    closed the agent's socket, while the call is stopping (its last finals still being decoded). It
    waits for the stop and resumes the call: its audio is recorded (it used to be refused with
    "call ... is already live" and lost)."""
    port, agent_uuid, debtor_uuid, call_id = _one_call_by_convention(live_server)
    audio = real_call.excerpt(20.0, 3.0)

    async def run() -> tuple[bytes, bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        frames = b"".join(
            encode_frame(Kind.AUDIO, audio.agent[i : i + 160].astype("<i2").tobytes())
            for i in range(0, len(audio.agent), 160)
        )
        writer.write(uuid_frame(agent_uuid) + frames + encode_frame(Kind.HANGUP))
        await writer.drain()
        assert await reader.read() == b""  # the server closed the agent's socket: the call stops
        writer.close()
        other_reader, other = await asyncio.open_connection("127.0.0.1", port)
        payload = audio.debtor[:8000].astype("<i2").tobytes()
        other.write(uuid_frame(debtor_uuid) + encode_frame(Kind.AUDIO, payload) + encode_frame(Kind.HANGUP))
        await other.drain()
        answer = await asyncio.wait_for(other_reader.read(), 30)
        other.close()
        await wait_gone(live_server, call_id)
        return answer, payload

    answer, payload = asyncio.run(run())
    assert answer == b"", answer  # no error frame
    assert recorded(live_server, call_id, Leg.DEBTOR).endswith(payload)
    with live_server.services.db.session() as s:
        assert repo.get_call(s, call_id).status is CallStatus.ENDED


def test_a_registered_leg_that_reconnects_joins_the_same_call(
    live_server: LiveServer, real_call: CallAudio
) -> None:
    """A registration is not used up by its first connection: the leg's connection drops and comes
    back with the same UUID, and its audio continues the registered call (it used to land in the
    UUID convention's call, or be refused)."""
    port = live_server.services.audiosocket.port  # type: ignore[union-attr]
    assert port
    leg_uuid = uuid.uuid4()
    reply = httpx.post(
        live_server.url + "/api/audiosocket/register",
        json={"uuid": str(leg_uuid), "leg": "debtor", "call": {"call_id": "as-reg-again", "agent_id": "A-6"}},
        headers={"Authorization": f"Bearer {live_server.token}"},
    )
    assert reply.status_code == 200, reply.text
    audio = real_call.excerpt(60.0, 4.0)

    async def run() -> tuple[bytes, bytes]:
        first = await send_leg(port, leg_uuid, audio.debtor[:16000], hangup=False)
        await wait_gone(live_server, "as-reg-again")
        second = await send_leg(port, leg_uuid, audio.debtor[16000:])
        await wait_gone(live_server, "as-reg-again")
        return first, second

    first, second = asyncio.run(run())
    assert recorded(live_server, "as-reg-again", Leg.DEBTOR) == first + second
    with live_server.services.db.session() as s:
        call = repo.get_call(s, "as-reg-again")
        assert call.agent_id == "A-6" and call.status is CallStatus.ENDED


def test_shutting_down_with_a_connection_open_logs_no_error(
    tmp_path: Path, base_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """A server that stops while an AudioSocket connection is open stops its call (aborted) and
    logs no error (the handler re-raised its cancellation, which asyncio's stream callback logged as
    an ERROR with a traceback)."""
    settings = base_settings.model_copy(
        update={
            "data_dir": tmp_path / "data",
            "server": base_settings.server.model_copy(update={"audiosocket_port": 0}),
        }
    )
    app = create_app(settings)
    leg_uuid = uuid.UUID(bytes=uuid.uuid4().bytes[:-1] + b"\x00")
    with caplog.at_level(logging.WARNING), serve(app):
        port = app.state.services.audiosocket.port
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(uuid_frame(leg_uuid) + encode_frame(Kind.AUDIO, bytes(320)))
        deadline = time.monotonic() + 10
        while app.state.services.manager.get(f"audiosocket-{leg_uuid}") is None:
            assert time.monotonic() < deadline, "the call did not start"
            time.sleep(0.05)
    sock.close()
    errors = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors
    db = Database.open(settings)
    try:
        with db.session() as s:
            assert repo.get_call(s, f"audiosocket-{leg_uuid}").status is CallStatus.ABORTED
    finally:
        db.dispose()
