"""Database connections one node opens under load: live calls and web users at once.

    python benchmarks/bench_db_connections.py [--postgres-url URL] [--calls 8] [--duration 40]
        [--clients 0,16,64] [--pool SIZE,OVERFLOW] [--data DIR]

Creates a throw-away PostgreSQL database on the server of ``--postgres-url`` (default
``AGENT_MONITOR_TEST_POSTGRES_URL``; a role that may create databases), starts one real ``serve``
on it with ``database.pool_size`` and ``database.max_overflow`` from ``--pool`` (default: the
settings' own, the overflow sized for this machine's threads), and for each count
of ``--clients`` streams ``--calls`` real calls (SpokenWOZ speech with two scripted violations, as
the capacity benchmark) while that many web clients, each signed in as an admin, read the call
list, the wall, the QA queue and their own account back to back, without pause. Every 0.1 s it
counts the server's connections to the database (``pg_stat_activity``). Prints per client count:
the connections (median, peak), the web requests (per second, median and p95 milliseconds, the
answers by status code), the calls (streams failed and why, worst recognition lag, alerts
missed), what the server said of its pool at its start, and its warnings and errors.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

import httpx  # noqa: E402
from sqlalchemy import Engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from agent_monitor.settings import Settings  # noqa: E402
from agent_monitor.storage.migrate import upgrade_database  # noqa: E402
from benchmarks.capacity.calls import spokenwoz_calls  # noqa: E402
from benchmarks.capacity.keepup import fmt, percentile  # noqa: E402
from benchmarks.capacity.run import run_calls  # noqa: E402
from benchmarks.capacity.server import Node, start_node  # noqa: E402
from tests.pg_support import admin_engine, create_database, drop_database  # noqa: E402

#: what each web client reads, in turn (the pages' own reads: call list, wall, QA queue, account)
ROUTES = ("/api/calls?limit=50", "/api/wall", "/api/qa/queue", "/api/auth/me")
#: the node's connections: the database is the benchmark's own, made for the run (client
#: backends only: PostgreSQL's autovacuum workers show under the database too)
COUNT = text("SELECT count(*) FROM pg_stat_activity WHERE datname = :d AND backend_type = 'client backend'")


@dataclass
class Web:
    """The web clients' requests over one run."""

    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--postgres-url", default=os.environ.get("AGENT_MONITOR_TEST_POSTGRES_URL"))
    p.add_argument("--calls", type=int, default=8, help="live calls streamed at each client count")
    p.add_argument("--duration", type=float, default=40.0, help="seconds per call")
    p.add_argument("--clients", default="0,16,64", help="web clients at once, comma-separated")
    p.add_argument("--pool", help="database.pool_size,database.max_overflow (default: the settings')")
    p.add_argument("--data", type=Path, help="shared data folder (default settings.eval_data_dir)")
    return p.parse_args()


async def web_client(node: Node, web: Web, stop: asyncio.Event, first: int) -> None:
    """Reads :data:`ROUTES` in turn, from ``first``, until ``stop``."""
    async with httpx.AsyncClient(base_url=node.url, timeout=60, headers={"Cookie": node.cookie}) as client:
        i = first
        while not stop.is_set():
            started = time.perf_counter()
            try:
                reply = await client.get(ROUTES[i % len(ROUTES)])
                web.statuses[str(reply.status_code)] += 1
            except httpx.HTTPError as exc:
                web.statuses[type(exc).__name__] += 1
            web.latencies_ms.append((time.perf_counter() - started) * 1000)
            i += 1


async def count_connections(admin: Engine, database: str, seen: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        seen.append(await asyncio.to_thread(connections, admin, database))
        await asyncio.sleep(0.1)


def connections(admin: Engine, database: str) -> int:
    with admin.connect() as conn:
        return int(conn.execute(COUNT, {"d": database}).scalar_one())


async def one_level(node: Node, admin: Engine, database: str, clients: int, args: argparse.Namespace) -> str:
    calls = spokenwoz_calls(args.data, args.calls, args.duration)
    web, seen, stop = Web(), list[int](), asyncio.Event()
    counter = asyncio.create_task(count_connections(admin, database, seen, stop))
    readers = [asyncio.create_task(web_client(node, web, stop, i)) for i in range(clients)]
    started = time.monotonic()
    run = await run_calls([node], calls, f"c{clients}")
    wall = time.monotonic() - started
    stop.set()
    await asyncio.gather(counter, *readers)
    late = sum(run.missed.values())
    lag = max(run.max_lag.values(), default=0.0)
    p50, p95 = percentile(web.latencies_ms, 50), percentile(web.latencies_ms, 95)
    return (
        f"{clients:>3} clients: connections median {statistics.median(seen):.0f}, peak {max(seen)}; "
        f"web {len(web.latencies_ms) / wall:.1f} req/s, p50 {fmt(p50, 0)} ms, p95 {fmt(p95, 0)} ms, "
        f"answers {dict(sorted(web.statuses.items()))}; calls {args.calls}: "
        f"{len(run.failed_streams)} failed, worst lag {lag:.1f} s, alerts missed {late}"
    ) + "".join(f"\n      failed: {failed[:300]}" for failed in run.failed_streams[:3])


def said(log: Path, keep: int = 8) -> None:
    """The server's warnings and errors over the whole run: how many, and the first ``keep``
    different ones (their text without the time and numbers)."""
    text_ = log.read_text(errors="replace")
    for line in text_.splitlines():
        if ": database: " in line:  # what the server said of its pool at its start
            print("  " + line.split(": ", 1)[-1][:400])
    lines = [
        line
        for line in log.read_text(errors="replace").splitlines()
        if " WARNING " in line or " ERROR " in line
    ]
    print(f"  server log: {len(lines)} warnings and errors")
    seen: dict[str, str] = {}
    for line in lines:
        seen.setdefault(re.sub(r"[0-9]+", "N", line.split(" ", 2)[-1])[:160], line)
    for line in list(seen.values())[:keep]:
        print("    " + line[:300])


def main() -> int:
    args = parse_args()
    if not args.postgres_url:
        raise SystemExit("give --postgres-url (or set AGENT_MONITOR_TEST_POSTGRES_URL)")
    default = Settings()
    args.data = args.data or default.eval_data_dir
    pool_size, max_overflow = default.database.pool_size, default.database_overflow
    if args.pool:
        pool_size, max_overflow = (int(x) for x in args.pool.split(","))
    admin = admin_engine(args.postgres_url)
    url = create_database(admin, prefix="am_bench_conn")
    database = str(make_url(url).database)
    env = {
        "AGENT_MONITOR_DATABASE_URL": url,
        "AGENT_MONITOR_DATABASE__POOL_SIZE": str(pool_size),
        "AGENT_MONITOR_DATABASE__MAX_OVERFLOW": str(max_overflow),
    }
    cores = os.cpu_count()
    print(f"pool {pool_size} + {max_overflow}, {args.calls} calls of {args.duration:.0f} s, {cores} cores")
    try:
        upgrade_database(url)
        with tempfile.TemporaryDirectory(prefix="am-bench-conn-") as tmp:
            node = start_node(Path(tmp) / "node", env_extra=env)
            try:
                print(f"  started: {connections(admin, database)} connections")
                for clients in (int(c) for c in args.clients.split(",")):
                    print("  " + asyncio.run(one_level(node, admin, database, clients, args)), flush=True)
            finally:
                node.stop()
                said(node.data_dir / "server.log")
    finally:
        drop_database(admin, url)
        admin.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
