"""Cost of asking which floor nodes are present, as every call opening on a floor does.

    python benchmarks/bench_floor_presence.py [--nodes 10] [--keys 0,200000] [--asks 30] [--url URL]

Starts a ``redis-server`` in a temporary folder (or uses the empty Redis at ``--url``); ``--nodes``
registries beat once (presence and their member of the set of nodes), then for each count of
``--keys`` other keys in the same Redis (a Redis shared with other data: sessions, caches) one
registry asks ``--asks`` times (:meth:`CallRegistry.nodes_present`). Prints the median and the
slowest ask in milliseconds per key count, and how many ``SCAN`` commands Redis counted. Run it
in a checkout from before session 47 (which scanned the presence keys) to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

import redis.asyncio as aioredis  # noqa: E402

from agent_monitor.cluster.registry import CallRegistry  # noqa: E402
from agent_monitor.settings import ClusterSettings  # noqa: E402
from tests.redis_support import RedisServer  # noqa: E402


async def _fill(client: Any, upto: int, have: int) -> None:
    """Other keys ``app:N`` up to ``upto`` in all (``have`` there already)."""
    for start in range(have, upto, 10_000):
        async with client.pipeline(transaction=False) as pipe:
            for i in range(start, min(upto, start + 10_000)):
                pipe.set(f"app:{i}", "x")
            await pipe.execute()


async def _scans(client: Any) -> int:
    stats = await client.info("commandstats")
    return int(stats.get("cmdstat_scan", {}).get("calls", 0))


async def run(url: str, nodes: int, keys: list[int], asks: int) -> None:
    settings = ClusterSettings(redis_url=url, prefix="bench", heartbeat_s=30.0, node_ttl_s=300.0)
    registries = [CallRegistry(aioredis.from_url(url), settings, f"node-{i}") for i in range(nodes)]
    try:
        for registry in registries:
            await registry.beat([])
        asker, have = registries[0], 0
        for count in sorted(keys):
            await _fill(asker.redis, count, have)
            have = max(have, count)
            scans, times = await _scans(asker.redis), []
            for _ in range(asks):
                t0 = time.perf_counter()
                present = await asker.nodes_present()
                times.append((time.perf_counter() - t0) * 1000)
            assert present is not None and len(present) == nodes, present
            scanned = await _scans(asker.redis) - scans
            print(
                f"other keys {count:>9,}: ask median {statistics.median(times):8.2f} ms, "
                f"slowest {max(times):8.2f} ms, SCAN commands {scanned} ({asks} asks, {nodes} nodes)"
            )
    finally:
        for registry in registries:
            await registry.redis.aclose()


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--nodes", type=int, default=10)
    parser.add_argument("--keys", default="0,200000", help="counts of other keys, comma-separated")
    parser.add_argument("--asks", type=int, default=30)
    parser.add_argument("--url", help="an empty Redis to use instead of starting one")
    args = parser.parse_args()
    keys = [int(k) for k in args.keys.split(",") if k.strip()]
    if args.url:
        asyncio.run(run(args.url, args.nodes, keys, args.asks))
        return
    with tempfile.TemporaryDirectory() as folder, RedisServer(Path(folder)) as server:
        asyncio.run(run(server.url, args.nodes, keys, args.asks))


if __name__ == "__main__":
    main()
