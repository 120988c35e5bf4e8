"""Broken clients: a protocol violation closes that connection with a reason and keeps what was
received while another call goes on; a client killed mid-call leaves a complete, aborted call."""

from __future__ import annotations

import asyncio
import json

import numpy as np
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.ingest.client import auth_headers, stream_ingest, stream_twilio
from agent_monitor.model.audio import Leg
from agent_monitor.storage import CallStatus, repo
from agent_monitor.storage.recordings import read_recording, recording_path
from tests.web.live_support import LiveServer


def status_and_reason(server: LiveServer, call_id: str) -> CallStatus:
    with server.services.db.session() as s:
        return repo.get_call(s, call_id).status


def recorded(server: LiveServer, call_id: str, leg: Leg) -> bytes:
    return read_recording(recording_path(server.settings.data_dir, call_id, leg)).pcm


async def violate(server: LiveServer, audio: CallAudio, bad_frame: bytes) -> tuple[int, str, bytes, bytes]:
    """Start a call, send 2 s of good 20 ms frames, then ``bad_frame``; return the close and what was sent."""
    start = {
        "type": "start",
        "call_id": "bad-1",
        "agent_id": "A-9",
        "sample_rate": 8000,
        "encoding": "L16",
        "channels": ["agent", "debtor"],
    }
    sent_a, sent_d = b"", b""
    async with connect(server.ws + "/ws/ingest", additional_headers=auth_headers(server.token)) as ws:
        await ws.send(json.dumps(start))
        assert json.loads(await ws.recv())["type"] == "started"
        for i in range(100):
            a = audio.agent[i * 160 : (i + 1) * 160].astype("<i2").tobytes()
            d = audio.debtor[i * 160 : (i + 1) * 160].astype("<i2").tobytes()
            stereo = np.stack(
                [audio.agent[i * 160 : (i + 1) * 160], audio.debtor[i * 160 : (i + 1) * 160]], axis=1
            )
            frame = stereo.astype("<i2").tobytes()
            await ws.send(frame)
            sent_a, sent_d = sent_a + a, sent_d + d
            await asyncio.sleep(0.02)
        await ws.send(bad_frame)
        try:
            while True:
                await ws.recv()
        except ConnectionClosed as exc:
            assert exc.rcvd is not None
            return exc.rcvd.code, exc.rcvd.reason, sent_a, sent_d
    raise AssertionError("not closed")


def test_malformed_frame_closes_with_reason_keeps_audio_other_call_continues(
    live_server: LiveServer, real_call: CallAudio
) -> None:
    good_audio = real_call.excerpt(30.0, 12.0)

    async def run() -> tuple[object, tuple[int, str, bytes, bytes]]:
        good = asyncio.create_task(
            stream_twilio(
                live_server.url,
                good_audio,
                {"agent_id": "A-1"},
                speed=1.5,
                call_sid="CAgood",
                token=live_server.token,
            )
        )
        await asyncio.sleep(1.0)
        bad = await violate(live_server, real_call.excerpt(60.0, 5.0), b"\x01\x02\x03")  # not whole frames
        return await good, bad

    good, (code, reason, sent_a, sent_d) = asyncio.run(run())
    assert code == 1003
    assert "not a whole number of 4-byte sample frames" in reason
    assert status_and_reason(live_server, "bad-1") is CallStatus.ABORTED
    # everything received before the bad frame is kept
    assert recorded(live_server, "bad-1", Leg.AGENT) == sent_a
    assert recorded(live_server, "bad-1", Leg.DEBTOR) == sent_d
    with live_server.services.db.session() as s:
        recordings = repo.list_recordings(s, "bad-1")
        assert len(recordings) == 2 and all(r.closed_at is not None for r in recordings)
    # the other call was not disturbed
    assert good.close_code == 1000  # type: ignore[attr-defined]
    assert status_and_reason(live_server, "CAgood") is CallStatus.ENDED


def test_bad_start_message_is_refused_with_reason(live_server: LiveServer) -> None:
    async def run() -> tuple[int, str]:
        headers = auth_headers(live_server.token)
        async with connect(live_server.ws + "/ws/ingest", additional_headers=headers) as ws:
            await ws.send(json.dumps({"type": "start", "call_id": "x", "agent_id": "a", "encoding": "opus"}))
            try:
                await ws.recv()
            except ConnectionClosed as exc:
                assert exc.rcvd is not None
                return exc.rcvd.code, exc.rcvd.reason
        raise AssertionError("not closed")

    code, reason = asyncio.run(run())
    assert code == 1008 and "encoding must be L16, mulaw or alaw" in reason


def test_killed_client_leaves_complete_aborted_call(live_server: LiveServer, real_call: CallAudio) -> None:
    audio = real_call.excerpt(90.0, 8.0)
    result = asyncio.run(
        stream_ingest(
            live_server.url,
            audio,
            {"call_id": "killed-1", "agent_id": "A-2"},
            speed=2.0,
            stop=False,
            token=live_server.token,
        )
    )
    assert result.close_code == 1006

    async def wait_stopped() -> None:
        for _ in range(300):
            if live_server.services.manager.get("killed-1") is None:
                return
            await asyncio.sleep(0.1)
        raise AssertionError("the killed call is still live")

    asyncio.run(wait_stopped())
    with live_server.services.db.session() as s:
        call = repo.get_call(s, "killed-1")
        assert call.status is CallStatus.ABORTED and call.ended_at is not None
        assert all(r.closed_at is not None and r.sha256 for r in repo.list_recordings(s, "killed-1"))
        assert repo.list_utterances(s, "killed-1", final_only=True)
    for leg in Leg:
        got, sent = recorded(live_server, "killed-1", leg), bytes(result.sent[leg])
        # the recording holds the audio up to the disconnect: all of it that reached the server
        assert sent.startswith(got) and len(got) >= len(sent) - 8000 * 2 * 1
