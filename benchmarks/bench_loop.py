"""CPU of the event-loop thread per call, per stage: the live ingest + pipeline path in one process.

    python benchmarks/bench_loop.py [--calls 4] [--seconds 30] [--speed 1] [--asr on|off]
    python benchmarks/bench_loop.py --ab DIR [--repeats 3]     # A = the code in DIR, B = this tree

N calls of real audio (the SpokenWOZ call ``calls/spokenwoz/MUL1011.opus``, a different excerpt per
call) are sent as a phone switch sends them: 8 kHz G.711 mu-law, both legs interleaved in one
binary frame every 20 ms, each frame through the ``/ws/ingest`` protocol parser
(:class:`~agent_monitor.ingest.ws_ingest.IngestConnection`: start message, binary frames, stop)
into the call session (:meth:`CallSession.push_audio`: decoding, recording, signal health, the
recognition queue) and on through the leg workers, with the real stages (Vosk, rules, stress,
fusion, the in-process bus with one subscriber draining it, SQLite storage). Frames are paced
in real time (``--speed``): the event loop does per call what it does on a live server, except the
websocket transport itself (uvicorn/``websockets`` frame parsing), which is not in this process.

Printed: CPU seconds of the event-loop thread (``time.thread_time`` in that thread; the Vosk and
storage threads are not in it) per second of call audio, as % of one core per call, split into
the stages wrapped here: ``ingest`` (protocol parsing and de-interleaving), ``decode`` (mu-law to
L16), ``recording``, ``health`` (the signal-health meter and its decisions), ``queue`` (the
recognition inbox) and ``rest`` (everything else on the loop: leg workers' hand-offs to the
threads, transcripts, rules results, fusion, bus, outbox, the pacing driver). ``--ab DIR`` runs the
measurement alternately on the code in DIR (A: e.g. ``git archive`` of an earlier commit) and on
this tree (B), each run in a fresh process, and prints the median of each.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

ROOT = Path(os.environ.get("BENCH_LOOP_CODE", Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(ROOT))

from agent_monitor.audio.decode import decode_file  # noqa: E402
from agent_monitor.audio.g711 import mulaw_encode  # noqa: E402
from agent_monitor.compose import build_stages  # noqa: E402
from agent_monitor.ingest.twilio import TwilioConnection, media_message, start_message  # noqa: E402
from agent_monitor.ingest.ws_ingest import IngestConnection, StartMessage, to_call_info  # noqa: E402
from agent_monitor.model.audio import Leg  # noqa: E402
from agent_monitor.pipeline import CallManager, InProcessEventBus  # noqa: E402
from agent_monitor.settings import Settings, load_settings  # noqa: E402
from agent_monitor.storage import Database, upgrade_database  # noqa: E402

if TYPE_CHECKING:  # typing only: with --ab this file also runs against an older tree (A)
    from agent_monitor.model.session import Source

RATE = 8000
FRAME_S = 0.02
STAGES = ("ingest", "decode", "recording", "health", "queue", "rest")


class StageClock:
    """Event-loop thread CPU per stage (``time.thread_time`` around each call, when ``on``).

    Reading the thread's CPU clock is a system call (~2.5 us here), about as long as some of the
    stages: :meth:`calibrate` measures what one timed call adds inside and outside the timed
    interval, and :meth:`corrected` takes it out again."""

    def __init__(self, on: bool) -> None:
        self.on = on
        self.cpu: defaultdict[str, float] = defaultdict(float)
        self.calls: defaultdict[str, int] = defaultdict(int)
        self.inside = self.outside = 0.0

    def wrap(self, stage: str, fn: Any) -> Any:
        if not self.on:
            return fn
        cpu, calls = self.cpu, self.calls

        def timed(*args: Any, **kw: Any) -> Any:
            t0 = time.thread_time()
            try:
                return fn(*args, **kw)
            finally:
                cpu[stage] += time.thread_time() - t0
                calls[stage] += 1

        return timed

    def calibrate(self, n: int = 20000) -> None:
        probe = StageClock(True)
        noop = probe.wrap("noop", lambda: None)
        t0 = time.thread_time()
        for _ in range(n):
            noop()
        total = (time.thread_time() - t0) / n
        self.inside = probe.cpu["noop"] / n
        self.outside = max(0.0, total - self.inside)

    def corrected(self, loop_cpu: float) -> dict[str, float]:
        """CPU seconds per stage without the timing's own cost; ``rest``: the loop's remainder."""
        out = {k: max(0.0, self.cpu[k] - self.calls[k] * self.inside) for k in STAGES[:-1]}
        timing = sum(self.calls.values()) * (self.inside + self.outside)
        out["rest"] = loop_cpu - timing - sum(out.values())
        return out


def instrument(session: Any, clock: StageClock) -> None:
    """Time the per-frame steps of ``push_audio`` (wrappers around the session's own objects)."""
    for worker in session.legs.values():
        worker.decoder.decode = clock.wrap("decode", worker.decoder.decode)
        worker.inbox.put_nowait = clock.wrap("queue", worker.inbox.put_nowait)
    for writer in session.recordings.values():
        writer.write = clock.wrap("recording", writer.write)
    if session.health is not None:
        session.health.push = clock.wrap("health", session.health.push)


def call_frames(path: Path, calls: int, seconds: float) -> list[list[bytes]]:
    """Per call, the 20 ms stereo mu-law frames of its excerpt (excerpts spread over the call)."""
    audio = decode_file(path, target_rate=RATE)
    legs = [(np.clip(x, -1.0, 32767 / 32768) * 32768).astype(np.int16) for x in audio.samples[:2]]
    n = int(seconds * RATE)
    room = max(0, len(legs[0]) - n)
    frame = int(FRAME_S * RATE)
    out = []
    for c in range(calls):
        a = (room * c) // max(1, calls) if calls > 1 else 0
        mu = [np.frombuffer(mulaw_encode(x[a : a + n]), dtype=np.uint8) for x in legs]
        stereo = np.stack(mu, axis=1).tobytes()
        out.append([stereo[i : i + 2 * frame] for i in range(0, len(stereo), 2 * frame)])
    return out


def start_text(call_id: str) -> str:
    return json.dumps(
        {
            "type": "start",
            "call_id": call_id,
            "agent_id": "agent-1",
            "sample_rate": RATE,
            "encoding": "mulaw",
            "channels": ["agent", "debtor"],
            "lang": "en",
        }
    )


async def drain(sub: Any, counts: dict[str, int]) -> None:
    while True:
        event = await sub.get()
        counts[type(event).__name__] = counts.get(type(event).__name__, 0) + 1


class Sender:
    """One call as a phone switch sends it: the messages of each 20 ms tick, and the server's
    protocol parser for them (``ws-ingest``: one binary stereo frame; ``twilio``: one JSON media
    message per leg, base64 mu-law)."""

    def __init__(self, protocol: str, call_id: str, frames: list[bytes]) -> None:
        self.protocol = protocol
        self.ticks: list[list[str | bytes]]
        if protocol == "twilio":
            self.conn: Any = TwilioConnection()
            self.ticks = [[json.dumps(m) for m in twilio_media(k, f)] for k, f in enumerate(frames)]
            self.first = json.dumps(
                start_message("MZ" + call_id, call_id, {"agent_id": "agent-1", "lang": "en"})
            )
        else:
            self.conn = IngestConnection()
            self.ticks = [[f] for f in frames]
            self.first = start_text(call_id)

    def start(self) -> StartMessage:
        msg = self.conn.on_text(self.first)
        return msg.call if self.protocol == "twilio" else msg

    def parse(self, message: str | bytes) -> list[tuple[Leg, bytes]]:
        if isinstance(message, bytes):
            return list(self.conn.on_binary(message).items())
        media = self.conn.on_text(message)
        return [(media.leg, media.payload)]


def twilio_media(k: int, frame: bytes) -> list[dict[str, Any]]:
    """Tick ``k``'s stereo mu-law frame as Twilio's two media messages (agent = outbound track)."""
    legs = {"outbound": frame[0::2], "inbound": frame[1::2]}
    ms = int(k * FRAME_S * 1000)
    return [media_message("MZ", track, 2 + 2 * k + j, k + 1, ms, legs[track]) for j, track in enumerate(legs)]


async def feed(manager: CallManager, senders: list[Sender], speed: float, clock: StageClock) -> int:
    """Send every call's ticks in real time (x ``speed``); returns the ticks sent."""
    sessions = []
    for sender in senders:
        start = sender.start()
        source: Source = "twilio" if sender.protocol == "twilio" else "ws-ingest"
        session = await manager.start_call(to_call_info(start, source, manager.settings.live))
        instrument(session, clock)
        sessions.append(session)
    parse = [clock.wrap("ingest", sender.parse) for sender in senders]
    began = time.monotonic()
    sent = 0
    for k in range(max(len(s.ticks) for s in senders)):
        for i, sender in enumerate(senders):
            if k < len(sender.ticks):
                for message in sender.ticks[k]:
                    for leg, data in parse[i](message):
                        sessions[i].push_audio(leg, data)
                sent += 1
        delay = began + (k + 1) * FRAME_S / speed - time.monotonic()
        await asyncio.sleep(max(0.0, delay))
    for session in sessions:
        await session.stop("stop")
    return sent


def bench_settings(tmp: Path, calls: int, seconds: float, asr: bool) -> Settings:
    """Default settings but: SQLite in ``tmp``, speech in this process, one spare recognizer per
    leg, and a recognition queue as long as the call, so that a machine too busy to keep Vosk up
    delays recognition instead of dropping audio (every run then recognises the same audio)."""
    s = load_settings()
    speech: dict[str, Any] = {"spare_recognizers": 2 * calls, "warmup_s": 0.0}
    if not asr:
        speech["models"] = {}
    return s.model_copy(
        update={
            "data_dir": tmp / "data",
            "database_url": None,
            "asr": s.asr.model_copy(update=speech),
            "live": s.live.model_copy(update={"leg_queue_s": seconds + 10.0}),
            "server": s.server.model_copy(update={"workers": 0}),
        }
    )


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = bench_settings(Path(tmp), args.calls, args.seconds, args.asr == "on")
        frames = call_frames(
            settings.eval_data_dir / "calls" / "spokenwoz" / "MUL1011.opus", args.calls, args.seconds
        )
        upgrade_database(settings)
        db = Database.open(settings)
        stages = build_stages(settings)
        await stages.transcribers.prewarm()
        bus = InProcessEventBus(settings.live.subscriber_queue)
        counts: dict[str, int] = {}
        drainer = asyncio.create_task(drain(bus.subscribe(), counts))
        manager = CallManager(settings, stages, db, bus)
        clock = StageClock(args.stages)
        clock.calibrate()
        profile = cProfile.Profile() if args.profile else None
        t0, p0 = time.thread_time(), time.process_time()
        if profile is not None:
            profile.enable()
        senders = [Sender(args.protocol, f"loop-{i}", f) for i, f in enumerate(frames)]
        pushed = await feed(manager, senders, args.speed, clock)
        if profile is not None:
            profile.disable()
        loop_cpu, proc_cpu = time.thread_time() - t0, time.process_time() - p0
        await manager.shutdown()
        for _ in range(10):  # let the subscriber take the last events
            await asyncio.sleep(0)
        drainer.cancel()
        stages.close()
        db.dispose()
    call_s = pushed * FRAME_S
    if profile is not None:
        pstats.Stats(profile, stream=sys.stderr).sort_stats(
            os.environ.get("BENCH_LOOP_SORT", "tottime")
        ).print_stats(args.profile)
    stage_cpu = clock.corrected(loop_cpu) if args.stages else {}
    return {
        "calls": args.calls,
        "protocol": args.protocol,
        "call_s": call_s,
        "loop_pct_per_call": 100 * loop_cpu / call_s,
        "process_pct_per_call": 100 * proc_cpu / call_s,
        "stages_pct_per_call": {k: 100 * v / call_s for k, v in stage_cpu.items()},
        "events": counts,
    }


def show(label: str, r: dict[str, Any]) -> None:
    print(
        f"{label:>4} {r['protocol']}, {r['calls']} calls x {r['call_s'] / r['calls']:.0f} s: event loop "
        f"{r['loop_pct_per_call']:.3f}% of a core per call (whole process {r['process_pct_per_call']:.2f}%)"
    )
    if r["stages_pct_per_call"]:
        stages = "  ".join(f"{k} {v:.3f}" for k, v in r["stages_pct_per_call"].items())
        print(f"     per stage, % of a core per call: {stages}")
    print(f"     events: {sum(r['events'].values())} ({json.dumps(r['events'], sort_keys=True)})", flush=True)


def run_ab(args: argparse.Namespace) -> None:
    """Alternate A (``--ab`` DIR) and B (this tree) in fresh processes; print medians."""
    here = Path(__file__).resolve().parents[1]
    forward = [
        f"--calls={args.calls}",
        f"--seconds={args.seconds}",
        f"--speed={args.speed}",
        f"--asr={args.asr}",
        f"--protocol={args.protocol}",
        *(["--stages"] if args.stages else []),
    ]
    results: dict[str, list[dict[str, Any]]] = {"A": [], "B": []}
    for rep in range(args.repeats):
        for label, code in (("A", Path(args.ab).resolve()), ("B", here)):
            env = {**os.environ, "BENCH_LOOP_CODE": str(code), "PYTHONPATH": str(code)}
            proc = subprocess.run(
                [sys.executable, __file__, "--json", *forward],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            results[label].append(r)
            show(f"{label}{rep + 1}", r)
    for label, runs in results.items():
        median = statistics.median(r["loop_pct_per_call"] for r in runs)
        line = f"median {label} ({len(runs)} runs): event loop {median:.3f}% of a core per call"
        if args.stages:
            stages = {k: statistics.median(r["stages_pct_per_call"][k] for r in runs) for k in STAGES}
            line += "; " + "  ".join(f"{k} {v:.3f}" for k, v in stages.items())
        print(line, flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--calls", type=int, default=4)
    p.add_argument("--seconds", type=float, default=30.0, help="seconds of audio per call")
    p.add_argument("--speed", type=float, default=1.0, help="1 = real time")
    p.add_argument("--protocol", choices=("ws-ingest", "twilio"), default="ws-ingest")
    p.add_argument("--asr", choices=("on", "off"), default="on", help="off: no speech model loaded")
    p.add_argument("--ab", help="directory with the code to compare against (A); B is this tree")
    p.add_argument("--repeats", type=int, default=3, help="A/B pairs (with --ab)")
    p.add_argument("--stages", action="store_true", help="time each stage (adds ~5 us per timed call)")
    p.add_argument("--profile", type=int, default=0, help="cProfile the loop thread; print the top N")
    p.add_argument("--json", action="store_true", help="print one JSON line (used by --ab)")
    args = p.parse_args()
    if args.ab:
        run_ab(args)
        return
    result = asyncio.run(measure(args))
    if args.json:
        print(json.dumps(result))
    else:
        show("", result)


if __name__ == "__main__":
    main()
