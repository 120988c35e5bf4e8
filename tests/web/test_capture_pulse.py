"""``agent-monitor capture`` for real: two PulseAudio null sinks stand in for the headset
microphone and the softphone's far end; their monitors are captured through PortAudio/ALSA's
pulse plugin as the two legs, streamed to the live server and stored.

The agent "microphone" plays a LibriSpeech utterance, the "call audio" the debtor leg of the real
phone call; ``paplay`` plays them into the sinks while the capture runs in its own process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.model.audio import Leg
from agent_monitor.storage import CallStatus, repo
from agent_monitor.storage.recordings import read_recording, recording_path
from tests.web.live_support import LiveServer

LIBRI = "speech/en/librispeech/test-clean/1089/134686/1089-134686-0000.flac"
LIBRI_TEXT = "he hoped there would be stew for dinner turnips and carrots and bruised potatoes and fat mutton"


@dataclass(frozen=True)
class Pulse:
    env: dict[str, str]
    agent_sink: str
    debtor_sink: str


def _pactl(*args: str) -> str:
    return subprocess.run(["pactl", *args], check=True, capture_output=True, text=True, timeout=20).stdout


@pytest.fixture()
def pulse(tmp_path: Path) -> Iterator[Pulse]:
    """Two null sinks and an ALSA config naming their monitors ``am_mic`` and ``am_call``."""
    for tool in ("pulseaudio", "pactl", "paplay"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed (needed to test capture through PulseAudio)")
    if subprocess.run(["pactl", "info"], capture_output=True, timeout=20).returncode != 0:
        subprocess.run(
            ["pulseaudio", "-D", "--exit-idle-time=-1", "--system=false", "--disallow-exit"],
            check=True,
            capture_output=True,
            timeout=30,
        )
        time.sleep(1.0)
    server = next(
        line.split(":", 1)[1].strip()
        for line in _pactl("info").splitlines()
        if line.startswith("Server String")
    )
    tag = f"{os.getpid()}"
    modules = [
        _pactl("load-module", "module-null-sink", f"sink_name=am_agent_{tag}").strip(),
        _pactl("load-module", "module-null-sink", f"sink_name=am_debtor_{tag}").strip(),
    ]
    home = tmp_path / "home"
    home.mkdir()
    (home / ".asoundrc").write_text(
        f'pcm.am_mic {{ type pulse; device "am_agent_{tag}.monitor"; hint.show on }}\n'
        f'pcm.am_call {{ type pulse; device "am_debtor_{tag}.monitor"; hint.show on }}\n'
    )
    env = {**os.environ, "HOME": str(home), "PULSE_SERVER": server}
    cookie = Path.home() / ".config" / "pulse" / "cookie"
    if cookie.is_file():
        env["PULSE_COOKIE"] = str(cookie)
    try:
        yield Pulse(env, f"am_agent_{tag}", f"am_debtor_{tag}")
    finally:
        for module in modules:
            _pactl("unload-module", module)


def test_capture_two_devices_as_two_legs(
    live_server: LiveServer, real_call: CallAudio, eval_data: Path, pulse: Pulse, tmp_path: Path
) -> None:
    env = {**pulse.env, "AGENT_MONITOR_WEB__INGEST_TOKEN": live_server.token}
    debtor_wav = tmp_path / "debtor.wav"
    sf.write(debtor_wav, real_call.excerpt(14.0, 10.0).debtor, 8000, subtype="PCM_16")
    capture = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "agent_monitor",
            "capture",
            "--server",
            live_server.url,
            "--mic",
            "am_mic",
            "--call-audio",
            "am_call",
            "--duration",
            "14",
            "--call-id",
            "capture-1",
            "--agent-id",
            "A-cap",
        ],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(2.5)  # let the streams open
    players = [
        subprocess.Popen(["paplay", "-d", pulse.agent_sink, str(eval_data / LIBRI)], env=env),
        subprocess.Popen(["paplay", "-d", pulse.debtor_sink, str(debtor_wav)], env=env),
    ]
    for p in players:
        assert p.wait(30) == 0
    out, err = capture.communicate(timeout=90)
    assert capture.returncode == 0, err
    assert "capture-1" in out
    with live_server.services.db.session() as s:
        call = repo.get_call(s, "capture-1")
        assert call.status is CallStatus.ENDED and call.source_protocol == "ws-ingest"
        utts = repo.list_utterances(s, "capture-1", final_only=True)
    agent_text = " ".join(u.text for u in utts if u.leg is Leg.AGENT)
    debtor_text = " ".join(u.text for u in utts if u.leg is Leg.DEBTOR)
    reference = set(LIBRI_TEXT.split())
    # the agent leg heard the LibriSpeech reader, the debtor leg the phone call: legs are not mixed
    assert len(reference & set(agent_text.split())) >= 5, agent_text
    assert len(reference & set(debtor_text.split())) <= 2, debtor_text
    assert debtor_text.strip(), "nothing recognised on the call-audio leg"
    for leg in Leg:
        audio = read_recording(recording_path(live_server.settings.data_dir, "capture-1", leg))
        assert audio.sample_rate == 16000 and 13.0 <= audio.duration <= 14.5
        samples = np.frombuffer(audio.pcm, dtype="<i2").astype(np.float64)
        assert np.sqrt(np.mean(samples**2)) > 100, f"{leg} leg is silent"
