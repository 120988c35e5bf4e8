"""The shared services of the 2-node part: one ``redis-server`` and one throw-away PostgreSQL
database, started (and removed) around the nodes, and the nodes themselves.

Each node gets its own data directory, the same database (migrated once before the nodes start)
and ``AGENT_MONITOR_CLUSTER__REDIS_URL``; a node is pinned to one core with ``taskset -c``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from agent_monitor.storage.migrate import upgrade_database
from benchmarks.capacity.server import Node, start_node
from tests.pg_support import admin_engine, create_database, drop_database
from tests.redis_support import RedisServer


@dataclass(frozen=True)
class Shared:
    redis_url: str
    database_url: str

    @property
    def env(self) -> dict[str, str]:
        return {
            "AGENT_MONITOR_CLUSTER__REDIS_URL": self.redis_url,
            "AGENT_MONITOR_DATABASE_URL": self.database_url,
        }


@contextmanager
def shared_services(tmp: Path, postgres_url: str) -> Iterator[Shared]:
    """A fresh Redis (own directory, free port) and a new migrated database, removed on exit."""
    admin = admin_engine(postgres_url)
    url = create_database(admin, prefix="am_bench")
    try:
        upgrade_database(url)
        with RedisServer(tmp / "redis") as redis:
            yield Shared(redis.url, url)
    finally:
        drop_database(admin, url)
        admin.dispose()


@contextmanager
def nodes_on_cores(tmp: Path, shared: Shared, cores: list[str], tag: str) -> Iterator[list[Node]]:
    """One node per entry of ``cores`` (a ``taskset -c`` CPU list each), stopped on exit."""
    nodes: list[Node] = []
    try:
        for i, cpus in enumerate(cores):
            nodes.append(start_node(tmp / f"{tag}-node{i}", cpus=cpus, env_extra=shared.env))
        yield nodes
    finally:
        for node in nodes:
            node.stop()
