"""Live benchmark: N concurrent stereo calls in real time against a running server.

    python benchmarks/bench_live.py --calls 8 [--duration 60] [--sweep 4,8,12] [--protocol ingest]

Starts ``agent-monitor serve`` in a child process (its own SQLite database and recordings in a
temporary directory, the real Vosk model), then for each concurrency N streams N copies of the
real SpokenWOZ call (``calls/spokenwoz/MUL1011.opus``, 8 kHz stereo; a ``--duration`` excerpt
from a different offset per call) in real time, starts staggered by 0.25 s. Into each call's
agent leg two scripted violations are spliced (**synthetic** espeak-ng speech, "you are a stupid
idiot" in the first pause of the agent (1.5 s without speech) after 8 s and "shut up you idiot" in
the first pause after 25 s before the end), so each is an utterance of its own.

Before the measured runs, a warm-up (not measured) streams as many short calls of **synthetic**
espeak-ng speech as the largest N, so the server is measured as a floor that has been taking calls:
its spare Vosk recognizers have each served a leg (a never-used recognizer costs about 2.5x more CPU
over its first 8 s of speech; a server's first calls, all starting within 2 s, fall behind by up to
about 2 s during their first 20 s).

Reported per N:

- **lag**: every 0.5 s ``GET /api/live`` gives each call's recognition lag (audio received minus
  audio processed, worst leg); a call *keeps up* if its lag stayed below 1 s and no audio was
  dropped. The largest N where every call kept up is the *max concurrency*.
- **alert latency**: from the end of the offending speech in the audio (the end of the last
  voiced 10 ms frame of the synthetic clip, placed on the wall clock by the sender's schedule)
  to the arrival on ``/ws/events`` of the first ``agent_warning`` (the agent's on-screen
  warning) and of the first ``alert_raised`` whose call time falls in that violation's window.
  p50 / p95 over all violations of all calls.
- **event-loop lag** of the server (``GET /api/metrics``: a 100 ms timer's lateness), p50/p99/max.
- **CPU and memory per call**: the server process's CPU time (all threads) over the run divided
  by wall time and N (percent of one core per stereo call); RSS growth from idle to the peak
  during the run divided by N.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_monitor.ingest.call_audio import CallAudio, load_call_audio, synthetic_speech
from agent_monitor.ingest.client import StreamResult, stream_ingest, stream_twilio
from agent_monitor.model.audio import Leg
from agent_monitor.settings import load_settings

VIOLATIONS = ("you are a stupid idiot", "shut up you idiot")
ALERT_TYPES = ("agent_warning", "alert_raised")
#: what a violation without an event of that type means
MISSED = {
    "agent_warning": "violations not detected",
    "alert_raised": "no new alert (not detected, or the call level was already that high)",
}


@dataclass
class RunResult:
    calls: int
    max_lag: dict[str, float] = field(default_factory=dict)
    lag_samples: list[float] = field(default_factory=list)
    #: (call, call time received, lag) of every poll that saw a call 1 s or more behind
    lag_events: list[tuple[str, float, float]] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)
    latencies: dict[str, list[float]] = field(default_factory=lambda: {t: [] for t in ALERT_TYPES})
    missed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ALERT_TYPES, 0))
    loop_lag: dict[str, Any] = field(default_factory=dict)
    cpu_pct_per_call: float = 0.0
    rss_mib_per_call: float = 0.0
    rss_idle_mib: float = 0.0
    failed_streams: list[str] = field(default_factory=list)

    @property
    def kept_up(self) -> bool:
        return (
            not self.failed_streams
            and all(v < 1.0 for v in self.max_lag.values())
            and not any(self.dropped.values())
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def build_calls(base: CallAudio, n: int, duration: float) -> list[CallAudio]:
    clips = [synthetic_speech(text, base.sample_rate) for text in VIOLATIONS]
    calls = []
    span = max(0.0, base.duration - duration)
    for i in range(n):
        offset = (i * 23.0) % span if span else 0.0
        audio = base.excerpt(offset, duration)
        # each violation goes into the first pause of the agent leg after its target time
        late = audio.quiet_point(Leg.AGENT, max(12.0, duration - 25.0))
        audio = audio.splice(Leg.AGENT, clips[1], late, f"[synthetic] {VIOLATIONS[1]}")
        audio = audio.splice(
            Leg.AGENT, clips[0], audio.quiet_point(Leg.AGENT, 8.0), f"[synthetic] {VIOLATIONS[0]}"
        )
        calls.append(audio)
    return calls


WARMUP_LINES = (
    "hello, this is a call about your account with us",
    "can you confirm your name and date of birth please",
    "I understand, we can set up a payment plan that works for you",
    "thank you for your time, have a good day",
)


def warmup_calls(n: int, sample_rate: int) -> list[CallAudio]:
    """``n`` short stereo calls of SYNTHETIC speech (espeak-ng), the legs taking turns."""
    agent = [synthetic_speech(line, sample_rate) for line in WARMUP_LINES]
    debtor = [synthetic_speech(line, sample_rate, voice="en-gb") for line in WARMUP_LINES[::-1]]
    pause = np.zeros(sample_rate // 2, dtype=np.int16)
    a_parts: list[np.ndarray[Any, Any]] = []
    d_parts: list[np.ndarray[Any, Any]] = []
    for a, d in zip(agent, debtor, strict=True):
        a_parts += [a, pause, np.zeros(len(d), dtype=np.int16), pause]
        d_parts += [np.zeros(len(a), dtype=np.int16), pause, d, pause]
    call = CallAudio(sample_rate, np.concatenate(a_parts), np.concatenate(d_parts), "synthetic warm-up")
    return [call] * n


#: the benchmark's credentials on its server: an admin's session cookie (for /api/live,
#: /api/metrics, /ws/events) and the ingest token (for streaming the calls)
AUTH = {"cookie": "", "token": ""}
BENCH_USER, BENCH_PASSWORD = "bench-admin", "bench admin password"


async def http_json(url: str) -> Any:
    import httpx

    async with httpx.AsyncClient(timeout=5) as client:
        reply = await client.get(url, headers={"Cookie": AUTH["cookie"]} if AUTH["cookie"] else None)
        reply.raise_for_status()
        return reply.json()


async def run_once(url: str, pid: int, calls: list[CallAudio], protocol: str, tag: str) -> RunResult:
    from websockets.asyncio.client import connect

    n = len(calls)
    result = RunResult(n)
    ids = [f"bench-{tag}-{n}-{i}" for i in range(n)]
    arrivals: list[tuple[float, dict[str, Any]]] = []
    ws_events = url.replace("http://", "ws://") + "/ws/events?types=" + ",".join(ALERT_TYPES)
    events_ws = await connect(ws_events, additional_headers={"Cookie": AUTH["cookie"]})
    assert json.loads(await events_ws.recv())["type"] == "subscribed"

    async def collect() -> None:
        async for message in events_ws:
            arrivals.append((time.time(), json.loads(message)))

    collector = asyncio.create_task(collect())
    stop_poll = asyncio.Event()
    rss_peak = [proc_rss_mib(pid)]
    result.rss_idle_mib = proc_rss_mib(pid)
    await http_json(url + "/api/metrics?reset=true")
    cpu0, wall0 = proc_cpu_s(pid), time.monotonic()
    poller = asyncio.create_task(poll_live(url, pid, result, stop_poll, rss_peak))
    streams = await asyncio.gather(*(stream_one(url, calls[i], ids[i], i, protocol) for i in range(n)))
    cpu1, wall1 = proc_cpu_s(pid), time.monotonic()
    stop_poll.set()
    await poller
    metrics = await http_json(url + "/api/metrics")
    await asyncio.sleep(1.0)
    collector.cancel()
    await events_ws.close()

    result.loop_lag = metrics["loop_lag"]
    result.cpu_pct_per_call = (cpu1 - cpu0) / (wall1 - wall0) / n * 100
    result.rss_mib_per_call = max(0.0, rss_peak[0] - result.rss_idle_mib) / n
    for cid, stream, audio in zip(ids, streams, calls, strict=True):
        if stream.close_code != 1000:
            result.failed_streams.append(f"{cid}: {stream.close_code} {stream.close_reason}")
        score_alerts(result, cid, stream, audio, [(t, e) for t, e in arrivals if e["call_id"] == cid])
    return result


async def poll_live(
    url: str, pid: int, result: RunResult, stop: asyncio.Event, rss_peak: list[float]
) -> None:
    """Every 0.5 s until ``stop``: each call's recognition lag and dropped chunks, the server's RSS."""
    while not stop.is_set():
        live = await http_json(url + "/api/live")
        for call in live["calls"]:
            cid = call["call_id"]
            result.max_lag[cid] = max(result.max_lag.get(cid, 0.0), call["lag_s"])
            result.lag_samples.append(call["lag_s"])
            if call["lag_s"] >= 1.0:
                received = max(leg["received_s"] for leg in call["stats"]["legs"].values())
                result.lag_events.append((cid, received, call["lag_s"]))
            legs = call["stats"]["legs"].values()
            result.dropped[cid] = max(result.dropped.get(cid, 0), sum(leg["dropped_chunks"] for leg in legs))
        rss_peak[0] = max(rss_peak[0], proc_rss_mib(pid))
        await asyncio.sleep(0.5)


async def stream_one(url: str, audio: CallAudio, call_id: str, i: int, protocol: str) -> StreamResult:
    """Call ``i`` of a run, started 0.25 s after the one before."""
    await asyncio.sleep(0.25 * i)
    call = {"call_id": call_id, "agent_id": f"bench-agent-{i}"}
    if protocol == "twilio":
        return await stream_twilio(
            url, audio, {"agent_id": call["agent_id"]}, call_sid=call_id, token=AUTH["token"]
        )
    return await stream_ingest(url, audio, call, token=AUTH["token"])


def score_alerts(
    result: RunResult,
    cid: str,
    stream: StreamResult,
    audio: CallAudio,
    mine: list[tuple[float, dict[str, Any]]],
) -> None:
    """Latency from the end of each spliced violation to its first alert of each kind, or a miss."""
    for splice in audio.splices:
        spoken_end_wall = stream.started_wall + splice.speech_end_s
        for kind in ALERT_TYPES:
            hits = [
                t
                for t, e in mine
                if e["type"] == kind and splice.start_s - 0.5 <= e["t"] <= splice.speech_end_s + 1.5
            ]
            if hits:
                result.latencies[kind].append(min(hits) - spoken_end_wall)
            else:
                result.missed[kind] += 1
                if os.environ.get("BENCH_VERBOSE"):
                    seen = [(e["type"], round(e["t"], 2)) for _, e in mine]
                    where = f"{splice.start_s:.2f}-{splice.speech_end_s:.2f}"
                    print(f"     no {kind} for {cid} {splice.text!r} {where}: {seen}")


def pct(values: list[float], q: float) -> str:
    return f"{np.percentile(values, q):.2f}" if values else "n/a"


def report(r: RunResult) -> None:
    worst = max(r.max_lag.values(), default=float("nan"))
    print(f"\n== {r.calls} concurrent stereo calls: {'KEPT UP' if r.kept_up else 'FELL BEHIND'}")
    print(
        f"   recognition lag (s): p50 {pct(r.lag_samples, 50)}  p95 {pct(r.lag_samples, 95)}"
        f"  worst {worst:.2f}"
        f"  ({len(r.lag_samples)} samples); dropped chunks {sum(r.dropped.values())}"
    )
    for kind in ALERT_TYPES:
        lat = r.latencies[kind]
        print(
            f"   {kind} latency (s): p50 {pct(lat, 50)}  p95 {pct(lat, 95)}  max {pct(lat, 100)}"
            f"  (n={len(lat)}, {MISSED[kind]}: {r.missed[kind]})"
        )
        if os.environ.get("BENCH_VERBOSE"):
            print("     ", [round(x, 2) for x in sorted(lat)])
    ll = r.loop_lag
    print(
        f"   event-loop lag (ms): p50 {ll.get('p50_ms', 0):.1f}  p99 {ll.get('p99_ms', 0):.1f}"
        f"  max {ll.get('max_ms', 0):.1f}  ({ll.get('samples', 0)} samples)"
    )
    total = r.cpu_pct_per_call * r.calls
    print(f"   server CPU: {r.cpu_pct_per_call:.1f}% of one core per call ({total:.0f}% total)")
    print(f"   server memory: idle {r.rss_idle_mib:.0f} MiB, +{r.rss_mib_per_call:.1f} MiB per call at peak")
    if r.lag_events:
        by_window: dict[int, int] = {}
        for _, received, _ in r.lag_events:
            by_window[int(received // 10) * 10] = by_window.get(int(received // 10) * 10, 0) + 1
        where = ", ".join(f"{t}-{t + 10} s: {k}" for t, k in sorted(by_window.items()))
        print(f"   polls that saw a call >= 1 s behind, by call time: {where}")
    if os.environ.get("BENCH_VERBOSE"):
        for cid, received, lag in r.lag_events[:40]:
            print(f"     behind: {cid} at {received:.1f} s by {lag:.2f} s")
    for failure in r.failed_streams:
        print(f"   stream failed: {failure}")


def sign_in(url: str, data_dir: Path) -> None:
    """Sign in as the benchmark's admin and read the server's generated ingest token."""
    import httpx

    reply = httpx.post(url + "/api/auth/login", json={"username": BENCH_USER, "password": BENCH_PASSWORD})
    reply.raise_for_status()
    AUTH["cookie"] = f"am_session={reply.cookies['am_session']}"
    AUTH["token"] = (data_dir / "ingest-token").read_text(encoding="ascii").strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=8, help="concurrent calls (ignored with --sweep)")
    parser.add_argument(
        "--sweep", help="comma-separated concurrencies, run in order, stop at the first failure"
    )
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per call (default 60)")
    parser.add_argument("--protocol", choices=("ingest", "twilio"), default="ingest")
    parser.add_argument("--data", type=Path, help="shared data folder (default settings.eval_data_dir)")
    args = parser.parse_args()

    settings = load_settings()
    data = args.data or settings.eval_data_dir
    base = load_call_audio(data / "calls" / "spokenwoz" / "MUL1011.opus", 8000)
    levels = [int(x) for x in args.sweep.split(",")] if args.sweep else [args.calls]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(url, port, Path(tmp))
        try:
            sign_in(url, Path(tmp))
            print(f"server pid {server.pid} on {url}; cores: {os.cpu_count()}; calls of {args.duration:g} s")
            print("each call: real SpokenWOZ audio + 2 SYNTHETIC espeak-ng agent violations")
            # warm-up (not measured): first-call imports in the server, and every spare Vosk
            # recognizer serves a leg once, as on a floor that has been taking calls (a never-used
            # recognizer costs about 2.5x more CPU over its first 8 s of speech, measured)
            # The warm-up calls are SYNTHETIC espeak-ng speech, not the measured call, so no
            # recognizer starts the measurement adapted to the measured speakers.
            warm = warmup_calls(max(levels), base.sample_rate)
            asyncio.run(run_once(url, server.pid, warm, args.protocol, "warmup"))
            best = 0
            for i, n in enumerate(levels):
                calls = build_calls(base, n, args.duration)
                r = asyncio.run(run_once(url, server.pid, calls, args.protocol, str(i)))
                report(r)
                if not r.kept_up:
                    break
                best = n
            print(
                f"\nmax concurrency keeping every call < 1 s behind: {best}"
                + (" (of those tried)" if best else "")
            )
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(60)
            except subprocess.TimeoutExpired:
                server.kill()
    return 0


def start_server(url: str, port: int, data_dir: Path) -> subprocess.Popen[str]:
    """``agent-monitor serve`` on ``data_dir`` with the benchmark's admin, once it answers."""
    env = {**os.environ, "AGENT_MONITOR_DATA_DIR": str(data_dir)}
    repo = Path(__file__).resolve().parents[1]
    add_user = ["users", "add", BENCH_USER, "--role", "admin", "--password-stdin"]
    subprocess.run(
        [sys.executable, "-m", "agent_monitor", *add_user],
        env=env,
        cwd=repo,
        input=BENCH_PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
    )
    cmd = [sys.executable, "-m", "agent_monitor", "serve", "--port", str(port), "--audiosocket-port", "off"]
    server = subprocess.Popen(
        cmd, env=env, cwd=repo, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while True:
        try:
            asyncio.run(http_json(url + "/healthz"))
            return server
        except Exception as exc:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise SystemExit(
                    f"server did not start: {server.stderr.read() if server.stderr else ''}"
                ) from exc
            time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
