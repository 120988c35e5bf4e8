"""A call in a language the server has no model for, end to end on a real server (issue #17).

The live server of the conftest runs the default configuration (en and zh models) with only the
English model installed (no Chinese model exists on the development machines). Real Vosk model,
real SQLite database, the real phone call of the shared data (a few seconds of it).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from agent_monitor.audio.g711 import mulaw_decode, mulaw_encode
from agent_monitor.cli.live_cmd import preflight
from agent_monitor.errors import NotFoundError
from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.ingest.client import stream_ingest, stream_twilio
from agent_monitor.ingest.language import call_language
from agent_monitor.model.audio import Leg
from agent_monitor.settings import Settings
from agent_monitor.storage import CallStatus, repo
from agent_monitor.storage.recordings import read_recording, recording_path
from tests.web.live_support import EventCollector, LiveServer

EN = "vosk-model-small-en-us-0.15"
ZH = "vosk-model-small-cn-0.22"
MESSAGE = "no zh model installed: not transcribed"


@pytest.fixture(scope="module")
def short_call(real_call: CallAudio) -> CallAudio:
    return real_call.excerpt(0.0, 4.0)


def test_languages_endpoint_is_public_and_says_what_is_transcribed(live_server: LiveServer) -> None:
    data = httpx.get(live_server.url + "/api/languages", params={"agent_id": "A-1", "lang": "zh"}).json()
    assert data["transcribed"] == {"en": EN}
    assert data["not_transcribed"]["zh"]["model"] == ZH
    assert data["not_transcribed"]["zh"]["reason"] == f"model {ZH} is not installed on this server"
    # public: it names no folder of the server (the whole reason is in the server's log)
    model_dir = str(live_server.services.settings.model_dir.resolve())
    assert model_dir not in json.dumps(data) and "/" not in json.dumps(data)
    assert data["call"] == {"lang": "zh", "transcribed": False}
    default = httpx.get(live_server.url + "/api/languages", params={"agent_id": "A-1"}).json()
    assert default["call"] == {"lang": "en", "transcribed": True} and default["default"] == "en"


def _zh_call_events(live_server: LiveServer, call_id: str, stream: object) -> EventCollector:
    async def run() -> EventCollector:
        async with EventCollector(live_server.ws + "/ws/events", live_server.cookie) as events:
            result = await stream  # type: ignore[misc]
            assert result.close_code == 1000, result.close_reason
            await events.wait_for(call_id, "call_ended")
        return events

    return asyncio.run(run())


def _assert_refused_loudly(live_server: LiveServer, events: EventCollector, call_id: str) -> None:
    health = events.of(call_id, "signal_health")
    assert sorted(h["health"]["leg"] for h in health) == ["agent", "debtor"]
    for h in health:
        assert h["health"]["issue"] == "no_model" and h["health"]["active"] is True
        assert h["health"]["message"] == MESSAGE
    assert events.of(call_id, "transcript") == []
    with live_server.services.db.session() as s:
        call = repo.get_call(s, call_id)
        assert call.status is CallStatus.ENDED and call.lang == "zh"
        assert repo.list_utterances(s, call_id) == []
        stored = sorted((r.leg.value, r.issue.value, r.active) for r in repo.list_signal_health(s, call_id))
        assert stored == [("agent", "no_model", True), ("debtor", "no_model", True)]


def test_ws_ingest_zh_call_is_recorded_not_transcribed_and_signalled(
    live_server: LiveServer, short_call: CallAudio
) -> None:
    start = {"call_id": "zh-ingest-1", "agent_id": "A-zh", "lang": "zh"}
    stream = stream_ingest(live_server.url, short_call, start, speed=4.0, token=live_server.token)
    events = _zh_call_events(live_server, "zh-ingest-1", stream)
    _assert_refused_loudly(live_server, events, "zh-ingest-1")
    for leg, pcm in ((Leg.AGENT, short_call.agent), (Leg.DEBTOR, short_call.debtor)):
        path = recording_path(live_server.settings.data_dir, "zh-ingest-1", leg)
        assert read_recording(path).pcm == pcm.astype("<i2").tobytes()


def test_twilio_lang_parameter_routes_the_call_the_same_way(
    live_server: LiveServer, short_call: CallAudio
) -> None:
    params = {"agent_id": "A-zh", "lang": "zh"}
    stream = stream_twilio(
        live_server.url, short_call, params, speed=4.0, call_sid="CAzh1", token=live_server.token
    )
    events = _zh_call_events(live_server, "CAzh1", stream)
    _assert_refused_loudly(live_server, events, "CAzh1")
    recorded = read_recording(recording_path(live_server.settings.data_dir, "CAzh1", Leg.AGENT)).pcm
    # mu-law on the wire, decoded to 16-bit PCM in the recording
    assert recorded == mulaw_decode(mulaw_encode(short_call.agent)).astype("<i2").tobytes()


def _replay(live_server: LiveServer, eval_data: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "agent_monitor",
            "replay",
            str(eval_data / "calls" / "spokenwoz" / "MUL1011.opus"),
            "--speed",
            "4",
            "--duration",
            "2",
            "--server",
            live_server.url,
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "AGENT_MONITOR_WEB__INGEST_TOKEN": live_server.token},
    )


def test_replay_lang_zh_is_refused_by_the_client_unless_record_only(
    live_server: LiveServer, eval_data: Path
) -> None:
    refused = _replay(live_server, eval_data, "--lang", "zh", "--call-id", "zh-replay-no")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    line = refused.stderr.strip().splitlines()[-1]
    assert line.startswith("agent-monitor: error: the server at") and "has no zh speech model" in line
    assert "--record-only" in line
    with live_server.services.db.session() as s, pytest.raises(NotFoundError):
        repo.get_call(s, "zh-replay-no")  # nothing was streamed
    ok = _replay(live_server, eval_data, "--lang", "zh", "--record-only", "--call-id", "zh-replay-yes")
    assert ok.returncode == 0, ok.stderr
    assert "WARNING: the server at" in ok.stderr and "recorded but not transcribed" in ok.stderr
    with live_server.services.db.session() as s:
        assert repo.get_call(s, "zh-replay-yes").lang == "zh"


def test_call_language_precedence(base_settings: Settings) -> None:
    live = base_settings.live.model_copy(
        update={"default_lang": "en", "lang_by_agent": {"A-cn": "zh"}, "lang_by_queue": {"Q-cn": "zh"}}
    )
    assert call_language(live, None, "A-1", None) == "en"
    assert call_language(live, None, "A-cn", None) == "zh"  # the agent's language
    assert call_language(live, None, "A-1", "Q-cn") == "zh"  # the queue's language
    assert call_language(live, "en", "A-cn", "Q-cn") == "en"  # the start message wins


def test_serve_preflight_prints_the_languages_it_can_transcribe(
    base_settings: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    model_dir = tmp_path / "models"
    model_dir.mkdir()
    (model_dir / EN).symlink_to((base_settings.model_dir / EN).resolve())
    preflight(base_settings.model_copy(update={"model_dir": model_dir}))
    err = capsys.readouterr().err
    assert f"agent-monitor: transcribes en ({EN})" in err
    assert f"zh: {MESSAGE}" in err and f"model {ZH} is not installed" in err
