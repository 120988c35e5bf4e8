"""Capacity benchmark: how many real-time stereo calls the server keeps up, and against what.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_live.py                # every part
    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_live.py --quick        # smoke run (minutes)
    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_live.py --parts peer --peer-dir /work/peer/vosk-server

Parts (``--parts``, comma-separated; default all):

- **workers**: for each ``--workers`` value (``AGENT_MONITOR_SERVER__WORKERS``, default ``0`` and
  the number of cores) and each call set (``--sets``: ``spokenwoz`` real call, ``dense``
  SYNTHETIC prodigal dialogues), a fresh server, a warm-up (SYNTHETIC calls, not measured, as many
  as the largest level), then the search over ``--levels`` (default ``8-32``: 8, 12, 14, 16, ...)
  stopping at the first N where a call fell behind. Prints the max calls kept up and alert p95.
- **burst**: per ``--workers`` value, per level: a just-started server (no warm-up traffic) and N
  calls all starting within 4 s (SpokenWOZ set).
- **nodes**: one Redis, one throw-away PostgreSQL database (``--postgres-url``, default
  ``AGENT_MONITOR_TEST_POSTGRES_URL``); the search on 1 node pinned to core 0, then on 2 nodes pinned
  to cores 0 and 1 (calls split between them; the levels from 1 node's max up); the client and
  redis-server pinned to the same cores as the nodes; prints the ratio.
- **peer**: at a fixed load (``--peer-calls`` calls = twice as many legs, the same audio), our
  server and alphacep/vosk-server (``--peer-dir``; see :mod:`benchmarks.capacity.peer`) each
  pinned to ``--peer-cpus``: CPU-seconds per leg-second, real-time legs per core, the ratio.

A call *keeps up* when its recognition lag stayed < 1 s and nothing was dropped
(:mod:`benchmarks.capacity.keepup`). CPU is the server's process tree (worker processes included).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_monitor.settings import load_settings
from benchmarks.capacity import calls as callsets
from benchmarks.capacity.bench import Bench
from benchmarks.capacity.cluster import nodes_on_cores, pinned, postgres_pid, shared_services
from benchmarks.capacity.keepup import RunResult, burst_stagger, levels_from, ratio, search_max
from benchmarks.capacity.peer_part import run_peer_part
from benchmarks.capacity.report import report_run, summary
from benchmarks.capacity.run import run_calls
from benchmarks.capacity.server import start_node

PARTS = ("workers", "burst", "nodes", "peer")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated of {', '.join(PARTS)}")
    p.add_argument("--levels", help="concurrencies: '8-32' (8,12,14,16,..) or '8,12,16'")
    p.add_argument("--duration", type=float, help="seconds per call (default 60)")
    p.add_argument("--sets", help="call sets of the workers part")
    p.add_argument(
        "--workers", default=f"0,{os.cpu_count() or 1}", help="AGENT_MONITOR_SERVER__WORKERS values"
    )
    p.add_argument("--postgres-url", default=os.environ.get("AGENT_MONITOR_TEST_POSTGRES_URL"))
    p.add_argument("--peer-dir", type=Path, default=Path("/work/peer/vosk-server"))
    p.add_argument("--peer-calls", type=int, help="calls (x2 legs) of the peer comparison")
    p.add_argument("--peer-cpus", default="0", help="taskset CPU list for both servers in the peer part")
    p.add_argument("--data", type=Path, help="shared data folder (default settings.eval_data_dir)")
    p.add_argument("--tts-cache", type=Path, help="rendered turns (default DATA_DIR/tts-cache)")
    p.add_argument("--quick", action="store_true", help="smoke run: 20-s calls, levels 2,4, spokenwoz")
    args = p.parse_args()
    quick = {"duration": 20.0, "levels": "2,4", "sets": "spokenwoz", "peer_calls": 2}
    full = {"duration": 60.0, "levels": "8-32", "sets": "spokenwoz,dense", "peer_calls": 4}
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:  # an option given explicitly wins over --quick
            setattr(args, key, value)
    unknown = sorted(set(args.sets.split(",")) - set(callsets.CALL_SETS))
    if unknown:
        p.error(f"unknown call set(s) {', '.join(unknown)}: choose from {', '.join(callsets.CALL_SETS)}")
    return args


def workers_part(b: Bench) -> list[str]:
    lines = []
    for call_set in b.args.sets.split(","):
        print(f"\n##### call set {call_set}: {callsets.LABEL[call_set]}")
        for workers in b.args.workers.split(","):
            node = start_node(b.fresh_dir(f"w{workers}"), workers=workers)
            try:
                name = f"{call_set}, workers={workers}"
                print(f"\n### {name}: server reports {node.reported}")
                b.warm_up([node])
                lines.append(summary(name, b.search(name, [node], call_set)))
            finally:
                node.stop()
    return lines


def burst_part(b: Bench) -> list[str]:
    lines = []
    print(f"\n##### burst: N calls within 4 s on a just-started server; {callsets.LABEL['spokenwoz']}")
    for workers in b.args.workers.split(","):
        name = f"burst, workers={workers}"

        def one(n: int, workers: str = workers, name: str = name) -> RunResult:
            node = start_node(b.fresh_dir(f"burst{n}"), workers=workers)
            try:
                print(f"\n### {name}, {n} calls: server reports {node.reported}")
                calls = b.calls("spokenwoz", n)
                r = asyncio.run(run_calls([node], calls, f"burst{n}", burst_stagger(n)))
                report_run(r, f"{name}: ")
                return r
            finally:
                node.stop()

        found = search_max(b.levels, one)
        lines.append(summary(name, found))
        print(lines[-1])
    return lines


def nodes_part(b: Bench) -> list[str]:
    if not b.args.postgres_url:
        return ["nodes: SKIPPED (no --postgres-url and no AGENT_MONITOR_TEST_POSTGRES_URL)"]
    if (os.cpu_count() or 1) < 2:
        return ["nodes: SKIPPED (needs 2 cores)"]
    print(f"\n##### nodes on loopback (one Redis, one PostgreSQL); {callsets.LABEL['spokenwoz']}")
    print("the benchmark client and redis-server pinned to the nodes' cores; PostgreSQL not pinned")
    best = {1: 0}
    with shared_services(b.tmp / "shared", b.args.postgres_url) as shared:
        b.others = {"redis-server": shared.redis_pid}
        pg = postgres_pid()
        if pg is not None:
            b.others["postgres (all sessions)"] = pg
        for cores in (["0"], ["0", "1"]):
            name = f"{len(cores)} node(s), one core each"
            levels = levels_from(b.levels, best[1]) if len(cores) > 1 else b.levels
            here = b.fresh_dir(f"nodes{len(cores)}")
            with pinned(cores, [shared.redis_pid]), nodes_on_cores(here, shared, cores, "n") as nodes:
                print(f"\n### {name}: servers report {[n.reported for n in nodes]}")
                b.warm_up(nodes)
                best[len(cores)] = b.search(name, nodes, "spokenwoz", levels).best
        b.others = {}
    r = ratio(best[2], best[1])
    return [
        f"nodes: 1 node {best[1]} calls, 2 nodes {best[2]} calls: ratio "
        f"{'n/a' if r is None else f'{r:.2f}x'} (target >= 1.9x)"
    ]


def main() -> int:
    args = parse_args()
    settings = load_settings()
    parts: dict[str, Callable[[Bench], list[str]]] = {
        "workers": workers_part,
        "burst": burst_part,
        "nodes": nodes_part,
        "peer": run_peer_part,
    }
    chosen = [x.strip() for x in args.parts.split(",") if x.strip()]
    unknown = [x for x in chosen if x not in parts]
    if unknown:
        raise SystemExit(f"unknown part(s) {', '.join(unknown)}: choose from {', '.join(PARTS)}")
    print(f"cores: {os.cpu_count()}; calls of {args.duration:g} s; levels {args.levels}; parts {chosen}")
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="am-bench-") as tmp:
        bench = Bench(args, settings, Path(tmp))
        for part in chosen:
            lines += parts[part](bench)
    print("\n===== summary")
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
