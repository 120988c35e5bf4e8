"""The shared services of the 2-node part: one ``redis-server`` and one throw-away PostgreSQL
database, started (and removed) around the nodes, and the nodes themselves.

Each node gets its own data directory, the same database (migrated once before the nodes start)
and ``AGENT_MONITOR_CLUSTER__REDIS_URL``; a node is pinned to one core with ``taskset -c``.

What else needs CPU shares the nodes' cores, so that 1 node and 2 nodes are compared on equal
terms (:func:`pinned`): the benchmark client (it streams every call's audio and polls the nodes)
and redis-server are pinned to the cores of the nodes under test, so with one node they share
that node's core and with two nodes both cores, each core carrying its calls' share of them; their
CPU is measured and printed with every run. The shared PostgreSQL is not pinned (it serves other
work too, and the live path never waits on it); its server's CPU over each run is printed as well.
"""

from __future__ import annotations

import os
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
    redis_pid: int

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
            assert redis.proc is not None  # started by the context manager
            yield Shared(redis.url, url, redis.proc.pid)
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


@contextmanager
def pinned(cores: list[str], pids: list[int]) -> Iterator[None]:
    """This process (its calling thread and every thread or child it starts from now on) and
    ``pids`` on ``cores`` (each a CPU number) for the duration; their affinity restored after."""
    cpus = {int(c) for c in cores}
    before = {pid: os.sched_getaffinity(pid) for pid in [0, *pids]}
    try:
        for pid in before:
            os.sched_setaffinity(pid, cpus)
        yield
    finally:
        for pid, mask in before.items():
            os.sched_setaffinity(pid, mask)


def postgres_pid() -> int | None:
    """The PostgreSQL server's main process on this machine (its CPU includes its ended
    backends'), or ``None`` when it cannot be found."""
    comms: dict[int, tuple[str, int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            comm = stat[stat.index("(") + 1 : stat.rindex(")")]
            comms[int(entry.name)] = (comm, int(stat.rsplit(")", 1)[1].split()[1]))
    mains = [
        pid
        for pid, (comm, ppid) in comms.items()
        if comm == "postgres" and comms.get(ppid, ("",))[0] != "postgres"
    ]
    return min(mains, default=None)
