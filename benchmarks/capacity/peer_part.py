"""The peer part: our server and alphacep/vosk-server on the same legs at a fixed load, each
pinned to the same CPUs, one after the other in the same run.

Both get ``--peer-calls`` SpokenWOZ calls (each call's two legs; ours as stereo calls over
``/ws/ingest``, the peer one websocket per leg) at real time. Reported for each: whether every leg
kept up (< 1 s behind), CPU-seconds per second of leg audio (process tree), and real-time legs per
core = leg-seconds / CPU-seconds; then ours / peer (target >= 1.5x). Ours does more per leg than
the peer (VAD, rules, stress, fusion, storage, the web's events); the peer only recognises.

The small English model runs at 16 kHz: our pipeline resamples each 8 kHz leg in the server (its
CPU counted); the peer's Kaldi refuses 8 kHz audio for a 16 kHz model, so the benchmark resamples
the legs to 16 kHz (soxr) before sending them to the peer (its CPU not counted: slightly in the
peer's favour).
"""

from __future__ import annotations

import asyncio

import numpy as np
import soxr

from agent_monitor.ingest.call_audio import Int16Array
from benchmarks.capacity import calls as callsets
from benchmarks.capacity.bench import Bench
from benchmarks.capacity.keepup import fmt, legs_per_core, ratio
from benchmarks.capacity.peer import PeerRun, feed, peer_script, running_peer
from benchmarks.capacity.report import report_run
from benchmarks.capacity.run import run_calls
from benchmarks.capacity.server import start_node

NOT_VALID = (
    "; NOT VALID: a side fell behind at this load (audio queued or dropped is not counted as"
    " recognised), rerun with fewer --peer-calls"
)
FETCH_HINT = "git clone https://github.com/alphacep/vosk-server /work/peer/vosk-server"


def run_peer_part(b: Bench) -> list[str]:
    peer_dir = b.args.peer_dir
    if peer_script(peer_dir) is None:
        line = f"peer: SKIPPED: no {peer_dir}/websocket/asr_server.py (fetch it: {FETCH_HINT})"
        print("\n" + line)
        return [line]
    cpus, n = b.args.peer_cpus, b.args.peer_calls
    cores = len(expand_cpus(cpus))
    calls = b.calls("spokenwoz", n)
    print(f"\n##### peer: {n} calls = {2 * n} legs on CPUs {cpus}; {callsets.LABEL['spokenwoz']}")
    node = start_node(b.fresh_dir("peer-ours"), workers="0", cpus=cpus)
    try:
        b.warm_up([node])
        ours = asyncio.run(run_calls([node], calls, "peer"))
        report_run(ours, "ours (peer part): ")
    finally:
        node.stop()
    model = (b.settings.model_dir / b.settings.asr.models["en"]).resolve()
    rate = b.settings.asr.sample_rate
    legs = [to_rate(leg, 8000, rate) for c in calls for leg in (c.agent, c.debtor)]
    warm = [to_rate(leg, 8000, rate) for c in callsets.warmup_calls(1) for leg in (c.agent, c.debtor)]
    with running_peer(peer_dir, model, cpus, rate) as (url, pid):
        asyncio.run(feed(url, pid, warm, rate, 0.0))
        theirs = asyncio.run(feed(url, pid, legs, rate, 0.25))
    report_peer(theirs)
    ours_lpc = legs_per_core(ours.cpu_s, ours.leg_seconds)
    theirs_lpc = legs_per_core(theirs.cpu_s, theirs.leg_seconds)
    r = ratio(ours_lpc, theirs_lpc)
    return [
        f"peer ({2 * n} legs, {cores} core(s) {cpus}): ours {'kept up' if ours.kept_up else 'FELL BEHIND'},"
        f" {fmt(ours.cpu_s / ours.leg_seconds, 3)} CPU-s/leg-s = {fmt(ours_lpc, 1)} real-time legs per core;"
        f" vosk-server {'kept up' if theirs.kept_up else 'FELL BEHIND'},"
        f" {fmt(theirs.cpu_s / theirs.leg_seconds, 3)} CPU-s/leg-s = {fmt(theirs_lpc, 1)} legs per core;"
        f" ours/peer {fmt(r)}x (target >= 1.5x)" + ("" if ours.kept_up and theirs.kept_up else NOT_VALID)
    ]


def report_peer(run: PeerRun) -> None:
    print(f"\n== vosk-server, {run.legs} legs: {'KEPT UP' if run.kept_up else 'FELL BEHIND'}")
    print(
        f"   worst answer lag per leg (s): max {fmt(max(run.max_lag, default=None))};"
        f" CPU {run.cpu_s:.1f} s over {run.wall_s:.1f} s wall for {run.leg_seconds:.0f} leg-seconds"
    )
    for error in run.errors:
        print(f"   leg failed: {error}")


def to_rate(pcm: Int16Array, rate: int, target: int) -> Int16Array:
    """The leg at the model's rate (soxr, as our pipeline resamples before Vosk)."""
    if rate == target:
        return pcm
    y = soxr.resample(pcm.astype(np.float32) / 32768.0, rate, target)
    return np.clip(np.round(y * 32768.0), -32768, 32767).astype(np.int16)


def expand_cpus(cpus: str) -> list[int]:
    """``"0-2,5"`` -> ``[0, 1, 2, 5]`` (a ``taskset -c`` list)."""
    out: list[int] = []
    for part in cpus.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b or a) + 1))
    return out
