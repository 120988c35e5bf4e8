"""The peer: alphacep/vosk-server (``websocket/asr_server.py``) fed the same legs, measured.

It is not part of this repository. Fetch it outside the repo, e.g.::

    git clone https://github.com/alphacep/vosk-server /work/peer/vosk-server

and pass ``--peer-dir /work/peer/vosk-server``. It runs with this venv's Python (``vosk`` and
``websockets`` installed) on the same Vosk model (``VOSK_MODEL_PATH``) at the model's rate, pinned with
``taskset -c`` like our server. Its handler was written for the websockets API before 14 (two
arguments, ``websocket, path``); the launcher below passes ``path=None`` and changes nothing else.

Each leg is one websocket stream (``{"config": {"sample_rate": 8000}}``, then 16-bit PCM), sent at
real time in 0.2 s chunks (the chunk of the peer's own ``test.py``); the peer answers every chunk
in order (a partial or a final result). A leg's *lag* is the arrival of a chunk's answer minus the
moment that chunk's audio ended on the wall clock; a leg keeps up when its lag stayed < 1 s.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks.capacity.keepup import MAX_LAG_S
from benchmarks.capacity.server import free_port, tree_cpu_s

CHUNK_S = 0.2
LAUNCHER = """
import asyncio, sys
sys.path.insert(0, sys.argv.pop(1))  # the model comes from VOSK_MODEL_PATH, not argv
import asr_server
handler = asr_server.recognize
asr_server.recognize = lambda websocket: handler(websocket, None)
asyncio.run(asr_server.start())
"""


def peer_script(peer_dir: Path) -> Path | None:
    script = peer_dir / "websocket" / "asr_server.py"
    return script if script.is_file() else None


@dataclass
class PeerRun:
    legs: int
    leg_seconds: float = 0.0
    cpu_s: float = 0.0
    wall_s: float = 0.0
    max_lag: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def kept_up(self) -> bool:
        return not self.errors and len(self.max_lag) == self.legs and max(self.max_lag) < MAX_LAG_S


@contextmanager
def running_peer(peer_dir: Path, model_dir: Path, cpus: str | None, rate: int) -> Iterator[tuple[str, int]]:
    """The peer server on a free port: yields its websocket URL and pid."""
    script = peer_script(peer_dir)
    if script is None:
        raise FileNotFoundError(f"{peer_dir}/websocket/asr_server.py")
    port = free_port()
    env = {**os.environ, "VOSK_SERVER_INTERFACE": "127.0.0.1", "VOSK_SERVER_PORT": str(port)}
    env |= {"VOSK_MODEL_PATH": str(model_dir), "VOSK_SAMPLE_RATE": str(rate)}
    cmd = [sys.executable, "-c", LAUNCHER, str(script.parent)]
    if cpus is not None:
        cmd = [shutil.which("taskset") or "taskset", "-c", cpus, *cmd]
    log = tempfile.NamedTemporaryFile(prefix="vosk-server-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        _wait_port(port, proc)
        yield f"ws://127.0.0.1:{port}", proc.pid
    except Exception:
        tail = [x for x in Path(log.name).read_text(errors="replace").splitlines() if not x.startswith("LOG")]
        print("   vosk-server log:\n      " + "\n      ".join(tail[-12:]))
        raise
    finally:
        log.close()
        Path(log.name).unlink(missing_ok=True)
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the peer exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("the peer did not open its port")


async def feed_leg(url: str, pcm: np.ndarray, rate: int, delay_s: float) -> float:
    """Stream one leg at real time; returns its worst lag (seconds)."""
    from websockets.asyncio.client import connect

    await asyncio.sleep(delay_s)
    step = int(rate * CHUNK_S)
    chunks = [pcm[i : i + step].astype("<i2").tobytes() for i in range(0, len(pcm), step)]
    ends: list[float] = []
    worst = 0.0
    async with connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"config": {"sample_rate": rate}}))
        start = time.monotonic()

        async def send() -> None:
            for k, chunk in enumerate(chunks):
                due = start + (k + 1) * CHUNK_S
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                ends.append(due)
                await ws.send(chunk)
            await ws.send('{"eof" : 1}')

        sender = asyncio.create_task(send())
        try:
            for k in range(len(chunks) + 1):
                await ws.recv()
                if k < len(chunks):
                    worst = max(worst, time.monotonic() - ends[k])
        finally:
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
    return worst


async def feed(url: str, pid: int, legs: list[np.ndarray], rate: int, stagger_s: float) -> PeerRun:
    """All ``legs`` at once (leg pairs of a call start together, calls ``stagger_s`` apart)."""
    run = PeerRun(len(legs), leg_seconds=sum(len(x) / rate for x in legs))
    cpu0, wall0 = tree_cpu_s(pid), time.monotonic()
    results = await asyncio.gather(
        *(feed_leg(url, x, rate, stagger_s * (i // 2)) for i, x in enumerate(legs)), return_exceptions=True
    )
    run.cpu_s, run.wall_s = tree_cpu_s(pid) - cpu0, time.monotonic() - wall0
    for r in results:
        if isinstance(r, BaseException):
            run.errors.append(f"{type(r).__name__}: {r}")
        else:
            run.max_lag.append(r)
    return run
