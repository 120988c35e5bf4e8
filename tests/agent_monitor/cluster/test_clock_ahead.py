"""A node whose clock runs ahead of the others' is named in their logs (``NodeKeeper``'s watch, on a
real ``redis-server``): a hand-off is escalated by the sweeping node's own clock against the time
the raising node wrote, so a node N seconds ahead escalates N seconds early, and nothing said so.
The machine's clock cannot be moved here, so the fast node's entry, written by its beat, is dated
again as a clock 10 s ahead would have dated it."""

from __future__ import annotations

import json
import logging
import re
import time

import pytest

from agent_monitor.cluster.keeper import NodeKeeper
from agent_monitor.model.session import CallInfo
from agent_monitor.storage import Database
from tests.agent_monitor.cluster.registry_support import Held, Node, close_all, keeper
from tests.redis_support import RedisServer


async def _beat_as(redis_server: RedisServer, db: Database, node: str, ahead_s: float) -> None:
    """Write ``node``'s entry of call ``c-NODE`` dated by a clock ``ahead_s`` seconds ahead."""
    registry = keeper(redis_server, db, node, Node()).registry
    await registry.beat([Held(CallInfo(f"c-{node}", "agent-1"))])
    raw = await registry.redis.hget(registry.calls_key, f"c-{node}")
    assert raw is not None
    entry = json.loads(raw)
    entry["at"] = time.time() + ahead_s
    await registry.redis.hset(registry.calls_key, f"c-{node}", json.dumps(entry))


def _lead(message: str, node: str) -> float:
    found = re.search(rf"node {node}'s clock is at least ([0-9.]+) s ahead", message)
    assert found is not None, message
    return float(found.group(1))


async def _warnings(caplog: pytest.LogCaptureFixture, watcher: NodeKeeper) -> list[str]:
    caplog.clear()
    await watcher.once()
    return [r.getMessage() for r in caplog.records if "clock is at least" in r.getMessage()]


@pytest.mark.asyncio
async def test_a_node_whose_clock_runs_ahead_is_named_once(
    redis_server: RedisServer, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="agent_monitor.cluster.keeper")
    try:
        web = keeper(redis_server, db, "web", Node(), holds=False)
        await _beat_as(redis_server, db, "fast", 10.0)
        await _beat_as(redis_server, db, "close", 1.0)  # within the margin (2 s): not named
        said = await _warnings(caplog, web)
        assert len(said) == 1 and 9.0 <= _lead(said[0], "fast") <= 10.0, said
        assert "(web)" in said[0] and "NTP" in said[0]
        assert web.clocks_ahead == {"fast"}
        assert await _warnings(caplog, web) == []  # once, not at every watch
        await _beat_as(redis_server, db, "fast", 0.0)  # its clock set right
        assert await _warnings(caplog, web) == [] and web.clocks_ahead == set()
        await _beat_as(redis_server, db, "fast", 30.0)  # and wrong again: named again
        said = await _warnings(caplog, web)
        assert len(said) == 1 and 29.0 <= _lead(said[0], "fast") <= 30.0, said
    finally:
        await close_all()
