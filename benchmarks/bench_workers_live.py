"""The server's own CPU per live call with speech in worker processes, against in-process threads.

    python benchmarks/bench_workers_live.py [--workers 0,2] [--calls 4] [--seconds 40]

For each ``server.workers`` value, starts ``agent-monitor serve`` in a child process
(``AGENT_MONITOR_SERVER__WORKERS``; its own SQLite database and recordings in a temporary
directory, the real Vosk model, the shipped rule packs and stress model), waits until it is ready,
then streams ``--calls`` copies of the real SpokenWOZ call (``calls/spokenwoz/MUL1011.opus``, 8 kHz
stereo over ``/ws/ingest`` in real time, each from its own offset, starts 0.25 s apart). It reports,
measured from ``/proc/PID/stat`` over the streaming (all threads of each process):

- **front CPU per call**: the server process (ingest, rules, stress, fusion, storage, bus, web,
  and with ``0`` also Vosk) in percent of one core per real-time stereo call;
- **worker CPU per call**: the speech worker processes (Vosk), the same unit;
- **memory**: RSS of the server and of each worker, idle (spares built) and at the end of the
  calls, and the growth per call.

The calls themselves are not checked here (``bench_live.py`` measures lag and alert latency).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_monitor.ingest.call_audio import CallAudio, load_call_audio
from agent_monitor.ingest.client import stream_ingest
from agent_monitor.settings import load_settings
from benchmarks.bench_workers import proc_cpu_s, rss_mib

REPO = Path(__file__).resolve().parent.parent
CALL = "calls/spokenwoz/MUL1011.opus"


@dataclass
class Server:
    """A running ``agent-monitor serve`` and where to reach it."""

    proc: subprocess.Popen[bytes]
    url: str
    token: str

    def workers(self) -> list[int]:
        """The pids of its child processes (the speech workers)."""
        out = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.proc.pid:
                    out.append(int(entry.name))
        return out


def start_server(workers: int, data_dir: Path) -> Server:
    port = 20000 + int.from_bytes(os.urandom(2), "big") % 20000
    env = dict(
        os.environ,
        PYTHONPATH=str(REPO),
        AGENT_MONITOR_DATA_DIR=str(data_dir),
        AGENT_MONITOR_SERVER__PORT=str(port),
        AGENT_MONITOR_SERVER__AUDIOSOCKET_PORT="0",
        AGENT_MONITOR_SERVER__WORKERS=str(workers),
    )
    log = (data_dir.parent / f"serve-{workers}.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "agent_monitor", "serve"], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited ({proc.returncode}); see {log.name}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    token = (data_dir / "ingest-token").read_text().strip()
                    return Server(proc, url, token)
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"the server did not start within 300 s; see {log.name}")


def stop_server(server: Server) -> None:
    server.proc.send_signal(signal.SIGINT)
    try:
        server.proc.wait(60)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()


async def stream_calls(server: Server, audio: CallAudio, calls: int, seconds: float) -> None:
    step = max(0.0, (audio.duration - seconds) / max(1, calls))

    async def one(i: int) -> None:
        await asyncio.sleep(0.25 * i)
        start = {"call_id": f"bench-{uuid.uuid4().hex[:8]}", "agent_id": f"bench-agent-{i}"}
        await stream_ingest(server.url, audio.excerpt(i * step, seconds), start, token=server.token)

    await asyncio.gather(*(one(i) for i in range(calls)))


def measure(workers: int, audio: CallAudio, calls: int, seconds: float) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        server = start_server(workers, data_dir)
        try:
            time.sleep(2.0)  # the start-up's last work (spares, first requests) settles
            pids = server.workers()
            idle = {pid: rss_mib(pid) for pid in [server.proc.pid, *pids]}
            front0, workers0 = proc_cpu_s(server.proc.pid), sum(proc_cpu_s(p) for p in pids)
            wall0 = time.monotonic()
            asyncio.run(stream_calls(server, audio, calls, seconds))
            wall = time.monotonic() - wall0
            front1, workers1 = proc_cpu_s(server.proc.pid), sum(proc_cpu_s(p) for p in pids)
            busy = {pid: rss_mib(pid) for pid in idle}
        finally:
            stop_server(server)
    call_s = seconds * calls
    front_pct, worker_pct = 100 * (front1 - front0) / call_s, 100 * (workers1 - workers0) / call_s
    where = f"{workers} worker processes" if workers else "in-process threads (0)"
    print(f"\n== {where}: {calls} stereo calls x {seconds:.0f} s in real time ({wall:.1f} s)")
    print(
        f"  CPU per real-time stereo call: server (front) {front_pct:.2f}% of a core, "
        f"workers {worker_pct:.2f}%, sum {front_pct + worker_pct:.2f}%"
    )
    for pid in idle:
        role = "server" if pid == server.proc.pid else "worker"
        print(f"  {role} {pid}: RSS idle {idle[pid]:.0f} MiB, after the calls {busy[pid]:.0f} MiB")
    growth = (sum(busy.values()) - sum(idle.values())) / calls
    print(f"  memory per call (all processes, legs just ended): +{growth:.1f} MiB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", default="0,2", help="server.workers values to compare")
    parser.add_argument("--calls", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=40.0)
    args = parser.parse_args()
    settings = load_settings()
    audio = load_call_audio(settings.eval_data_dir / CALL, 8000, settings.asr.agent_channel)
    print(f"cores {os.cpu_count()}; the server as configured by the environment, but server.workers")
    for workers in (int(w) for w in args.workers.split(",")):
        measure(workers, audio, args.calls, args.seconds)


if __name__ == "__main__":
    main()
