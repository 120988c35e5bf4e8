"""Killing the server (SIGKILL) mid-call loses nothing already stored; on restart the call is
marked aborted with its recordings readable and sealed as they are on disk, and a client resuming
the call id appends to it."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.ingest.client import stream_ingest
from agent_monitor.model.audio import Leg
from agent_monitor.settings import Settings
from agent_monitor.storage import CallStatus, Database, repo
from agent_monitor.storage.recordings import read_recording, recording_path

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server_process(data_dir: Path, port: int) -> Iterator[subprocess.Popen[str]]:
    env = {**os.environ, "AGENT_MONITOR_DATA_DIR": str(data_dir), "AGENT_MONITOR_ASR__SPARE_RECOGNIZERS": "2"}
    cmd = [sys.executable, "-m", "agent_monitor", "serve", "--port", str(port), "--audiosocket-port", "off"]
    data_dir.mkdir(parents=True, exist_ok=True)
    log = (data_dir.parent / f"server-{port}-{time.monotonic_ns()}.log").open("w")
    proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=log, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                assert proc.poll() is None, Path(log.name).read_text()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.3)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.wait(60)
        log.close()


def token(data_dir: Path) -> str:
    """The ingest token the server generated in its data directory at first start."""
    return (data_dir / "ingest-token").read_text(encoding="ascii").strip()


def test_server_killed_mid_call_then_restarted(
    tmp_path: Path, settings: Settings, real_call: CallAudio
) -> None:
    data_dir, port = tmp_path / "data", free_port()
    url = f"http://127.0.0.1:{port}"
    audio = real_call.excerpt(0.0, 30.0)
    with server_process(data_dir, port) as proc:

        async def call_until_kill() -> tuple[bytes, float]:
            task = asyncio.create_task(
                stream_ingest(
                    url, audio, {"call_id": "crash-1", "agent_id": "A-1"}, speed=2.0, token=token(data_dir)
                )
            )
            await asyncio.sleep(9.0)  # about 18 s of audio sent
            proc.kill()  # SIGKILL: no shutdown, no flush beyond what the writer already did
            result = await task
            return bytes(result.sent[Leg.AGENT]), result.seconds_sent

        sent_agent, seconds = asyncio.run(call_until_kill())
        proc.wait(30)
    assert seconds > 10
    # what reached the disk survived the kill: everything but at most the last ~1 s
    got = read_recording(recording_path(data_dir, "crash-1", Leg.AGENT)).pcm
    assert sent_agent.startswith(got) and len(got) >= len(sent_agent) - 2 * 8000 * 1
    db = Database.open(settings.model_copy(update={"data_dir": data_dir}))
    with db.session() as s:
        assert repo.get_call(s, "crash-1").status is CallStatus.LIVE  # nobody could end it
        before = len(repo.list_utterances(s, "crash-1", final_only=True))
    assert before >= 1
    with server_process(data_dir, port):
        with db.session() as s:
            assert repo.get_call(s, "crash-1").status is CallStatus.ABORTED  # marked at start, data kept
            assert len(repo.list_utterances(s, "crash-1", final_only=True)) == before
            for leg in Leg:  # and its recordings sealed as the crash left them (header repaired)
                rec = repo.require_recording(s, "crash-1", leg)
                path = recording_path(data_dir, "crash-1", leg)
                assert rec.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
                assert read_recording(path).header_complete
        assert read_recording(recording_path(data_dir, "crash-1", Leg.AGENT)).pcm == got
        # the client reconnects with the same call id: the call continues and appends
        rest = audio.excerpt(20.0, 6.0)
        result = asyncio.run(
            stream_ingest(
                url, rest, {"call_id": "crash-1", "agent_id": "A-1"}, speed=3.0, token=token(data_dir)
            )
        )
        assert result.completed
    with db.session() as s:
        assert repo.get_call(s, "crash-1").status is CallStatus.ENDED
        assert len(repo.list_utterances(s, "crash-1", final_only=True)) >= before
    after = read_recording(recording_path(data_dir, "crash-1", Leg.AGENT)).pcm
    assert after == got + bytes(result.sent[Leg.AGENT])
    db.dispose()
