"""End to end: real calls streamed into a real server over /ws/ingest and /ws/twilio.

Real Vosk model, real SQLite database, the real stereo phone call of the shared data (an excerpt
to keep the run short) with a scripted violation rendered by espeak-ng (**synthetic** speech)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from agent_monitor.audio.g711 import alaw_decode, mulaw_decode
from agent_monitor.ingest.call_audio import CallAudio, synthetic_speech
from agent_monitor.ingest.client import stream_ingest, stream_twilio
from agent_monitor.model.audio import Leg
from agent_monitor.storage import CallStatus, repo
from agent_monitor.storage.recordings import read_recording, recording_path
from tests.web.live_support import EventCollector, LiveServer

VIOLATION = "you are a stupid idiot"


def call_rows(server: LiveServer, call_id: str) -> dict[str, object]:
    with server.services.db.session() as s:
        call = repo.get_call(s, call_id)
        return {
            "status": call.status,
            "source": call.source_protocol,
            "agent": call.agent_id,
            "tz": call.debtor_tz,
            "level": call.final_level,
            "utterances": repo.list_utterances(s, call_id, final_only=True),
            "alerts": repo.list_alerts(s, call_id=call_id),
            "recordings": repo.list_recordings(s, call_id),
        }


def recorded(server: LiveServer, call_id: str, leg: Leg) -> bytes:
    return read_recording(recording_path(server.settings.data_dir, call_id, leg)).pcm


@pytest.fixture(scope="module")
def scripted_call(real_call: CallAudio) -> CallAudio:
    """25 s of the real call with a synthetic agent insult spliced in at 8 s."""
    clip = synthetic_speech(VIOLATION, real_call.sample_rate)
    return real_call.excerpt(0.0, 25.0).splice(Leg.AGENT, clip, 8.0, VIOLATION)


def test_ws_ingest_stereo_call_is_stored_and_alerts(
    live_server: LiveServer, scripted_call: CallAudio
) -> None:
    async def run() -> tuple[object, EventCollector]:
        async with EventCollector(live_server.ws + "/ws/events", live_server.cookie) as events:
            result = await stream_ingest(
                live_server.url,
                scripted_call,
                {
                    "call_id": "ingest-1",
                    "agent_id": "A-7",
                    "debtor_id": "D-1",
                    "debtor_tz": "America/Chicago",
                },
                speed=2.0,
                token=live_server.token,
            )
            await events.wait_for("ingest-1", "call_ended")
        return result, events

    result, events = asyncio.run(run())
    assert result.completed, (result.close_code, result.close_reason)  # type: ignore[attr-defined]
    rows = call_rows(live_server, "ingest-1")
    assert rows["status"] is CallStatus.ENDED and rows["source"] == "ws-ingest" and rows["agent"] == "A-7"
    assert rows["tz"] == "America/Chicago"
    utterances = rows["utterances"]
    assert isinstance(utterances, list) and len(utterances) >= 3
    assert {u.leg for u in utterances} == {Leg.AGENT, Leg.DEBTOR}
    assert any("idiot" in u.text for u in utterances if u.leg is Leg.AGENT), [
        (u.leg, u.start_s, u.text) for u in utterances
    ]
    # recordings are exactly what was sent, per leg
    for leg in Leg:
        assert recorded(live_server, "ingest-1", leg) == bytes(result.sent[leg])  # type: ignore[attr-defined]
    # the scripted violation raised an alert: on the bus and in the database
    assert events.of("ingest-1", "agent_warning") and events.of("ingest-1", "alert_raised")
    assert rows["alerts"]
    assert next(e["type"] for e in events.of("ingest-1")) == "call_started"
    assert any(e["final"] for e in events.of("ingest-1", "transcript"))


def test_ws_ingest_alaw_call_is_decoded_transcribed_and_checked(
    live_server: LiveServer, scripted_call: CallAudio
) -> None:
    """G.711 A-law (the law of most networks outside North America and Japan, China's included)
    sent as it is: recorded as its decoding, transcribed, the scripted insult flagged, and no
    health event claims the bytes are not what the start message declared."""

    async def run() -> tuple[object, EventCollector]:
        async with EventCollector(live_server.ws + "/ws/events", live_server.cookie) as events:
            start = {"call_id": "ingest-alaw", "agent_id": "A-7"}
            result = await stream_ingest(
                live_server.url, scripted_call, start, speed=2.0, encoding="alaw", token=live_server.token
            )
            await events.wait_for("ingest-alaw", "call_ended")
        return result, events

    result, events = asyncio.run(run())
    assert result.completed, (result.close_code, result.close_reason)  # type: ignore[attr-defined]
    for leg in Leg:
        sent = bytes(result.sent[leg])  # type: ignore[attr-defined]
        assert len(sent) == len(scripted_call.leg(leg))  # one byte per sample
        assert recorded(live_server, "ingest-alaw", leg) == alaw_decode(sent).astype("<i2").tobytes()
    utterances = call_rows(live_server, "ingest-alaw")["utterances"]
    assert isinstance(utterances, list)
    assert any("idiot" in u.text for u in utterances if u.leg is Leg.AGENT), [
        (u.leg, u.text) for u in utterances
    ]
    assert events.of("ingest-alaw", "alert_raised")
    issues = {e["health"]["issue"] for e in events.of("ingest-alaw", "signal_health")}
    assert "encoding_mismatch" not in issues


def test_twilio_stream_is_stored(live_server: LiveServer, scripted_call: CallAudio) -> None:
    async def run() -> tuple[object, EventCollector]:
        async with EventCollector(
            live_server.ws + "/ws/events?types=alert_raised,call_ended", live_server.cookie
        ) as events:
            result = await stream_twilio(
                live_server.url,
                scripted_call,
                {"agent_id": "A-8", "debtor_phone": "+15550001111"},
                speed=2.0,
                call_sid="CAtwilio1",
                token=live_server.token,
            )
            await events.wait_for("CAtwilio1", "call_ended")
        return result, events

    result, events = asyncio.run(run())
    assert result.close_code == 1000, result.close_reason  # type: ignore[attr-defined]
    rows = call_rows(live_server, "CAtwilio1")
    assert rows["status"] is CallStatus.ENDED and rows["source"] == "twilio" and rows["agent"] == "A-8"
    utterances = rows["utterances"]
    assert isinstance(utterances, list) and {u.leg for u in utterances} == {Leg.AGENT, Leg.DEBTOR}
    for leg in Leg:
        sent = bytes(result.sent[leg])  # type: ignore[attr-defined]
        assert len(sent) == len(scripted_call.agent)
        # mu-law on the wire; the recording holds it decoded to 16-bit PCM
        assert recorded(live_server, "CAtwilio1", leg) == mulaw_decode(sent).astype("<i2").tobytes()
    assert events.of("CAtwilio1", "alert_raised") and rows["alerts"]
    assert {e["type"] for e in events.of("CAtwilio1")} <= {"alert_raised", "call_ended"}
    assert np.any(np.frombuffer(recorded(live_server, "CAtwilio1", Leg.DEBTOR), dtype="<i2") != 0)


def test_replay_command_streams_a_recorded_call(live_server: LiveServer, eval_data: Path) -> None:
    call_file = eval_data / "calls" / "spokenwoz" / "MUL1011.opus"
    base = [
        sys.executable,
        "-m",
        "agent_monitor",
        "replay",
        str(call_file),
        "--speed",
        "4",
        "--duration",
        "6",
    ]
    ok = subprocess.run(
        [*base, "--server", live_server.url, "--call-id", "replay-cli-1", "--protocol", "twilio"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "AGENT_MONITOR_WEB__INGEST_TOKEN": live_server.token},
    )
    assert ok.returncode == 0, ok.stderr
    assert "call replay-cli-1: 6.0 s sent" in ok.stdout
    with live_server.services.db.session() as s:
        assert repo.get_call(s, "replay-cli-1").status is CallStatus.ENDED
    refused = subprocess.run(
        [*base, "--server", "http://127.0.0.1:9", "--call-id", "nowhere"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 1
    assert (
        refused.stderr.strip()
        .splitlines()[-1]
        .startswith("agent-monitor: error: cannot connect to ws://127.0.0.1:9")
    )
    assert "Traceback" not in refused.stderr


def test_replay_without_the_ingest_token_says_so(
    live_server: LiveServer, eval_data: Path, tmp_path: Path
) -> None:
    """A ``replay`` run away from the server's data_dir (no token) or with a wrong token said only
    "server rejected WebSocket connection: HTTP 403"; now one line naming the ingest token and how
    to give it, exit 1."""
    call_file = eval_data / "calls" / "spokenwoz" / "MUL1011.opus"
    env = {k: v for k, v in os.environ.items() if k != "AGENT_MONITOR_WEB__INGEST_TOKEN"}
    env["AGENT_MONITOR_DATA_DIR"] = str(tmp_path / "elsewhere")
    command = [sys.executable, "-m", "agent_monitor", "replay", str(call_file), "--server", live_server.url]
    for token, said in (
        (None, "no ingest token was found"),
        ("x" * 20, "the ingest token sent is not the server's"),
    ):
        run_env = env if token is None else {**env, "AGENT_MONITOR_WEB__INGEST_TOKEN": token}
        refused = subprocess.run(
            [*command, "--duration", "1"], capture_output=True, text=True, timeout=120, env=run_env
        )
        assert refused.returncode == 1, refused.stderr
        last = refused.stderr.strip().splitlines()[-1]
        assert last.startswith("agent-monitor: error: ws://127.0.0.1:") and "HTTP 403" in last, last
        assert said in last and "AGENT_MONITOR_WEB__INGEST_TOKEN" in last, last
        assert "Traceback" not in refused.stderr
