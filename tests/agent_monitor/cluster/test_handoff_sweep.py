"""The escalation sweep of a floor on a real database (SQLite, and PostgreSQL: required when
``AGENT_MONITOR_TEST_POSTGRES_URL`` is set or on CI) and a real ``redis-server``: a due handoff
whose node no longer runs its timer is escalated by a sweep, exactly once when two nodes' sweeps
and the raising node's own timer all try at the same moment, and the one ``handoff_escalated``
reaches a third node's bus (a web node's walls); handoffs acknowledged, not yet due or older
than the horizon are left alone."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent_monitor.cluster.handoffs import HandoffSweep
from agent_monitor.cluster.redis_bus import RedisEventBus
from agent_monitor.model.events import HandoffEscalated
from agent_monitor.model.levels import WarningLevel
from agent_monitor.pipeline.escalation import Escalator, SystemClock
from agent_monitor.settings import ClusterSettings
from agent_monitor.storage import Database, repo, upgrade_database
from tests.agent_monitor.pipeline.conftest import FakeClock
from tests.pg_support import admin_engine, create_database, drop_database
from tests.redis_support import RedisServer

PG_ENV = "AGENT_MONITOR_TEST_POSTGRES_URL"
AFTER_S = 5.0


def _backends() -> list[str]:
    found = ["sqlite"]
    if os.environ.get(PG_ENV) or os.environ.get("CI", "").lower() == "true":
        found.append("postgresql")
    return found


@pytest.fixture(params=_backends())
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        url, drop = f"sqlite:///{tmp_path / 'floor.db'}", None
    else:
        server = os.environ.get(PG_ENV)
        if not server:
            pytest.fail(f"{PG_ENV} is not set: this test needs a real PostgreSQL")
        admin = admin_engine(server)
        url, drop = create_database(admin, "am_sweep"), admin
    upgrade_database(url)
    database = Database.open(url)
    try:
        yield database
    finally:
        database.dispose()
        if drop is not None:
            drop_database(drop, url)
            drop.dispose()


def _red(db: Database, call_id: str, agent_id: str, raised_at: datetime, *, handoff: bool = True) -> int:
    with db.session() as s:
        repo.start_call(s, call_id, agent_id, source_protocol="ws-ingest", started_at=raised_at)
        alert = repo.raise_alert(
            s, call_id, WarningLevel.RED, [], raised_at_s=1.0, raised_at=raised_at, handoff=handoff
        )
        return alert.id


def _escalations(db: Database, alert_id: int) -> int:
    with db.session() as s:
        return sum(e.action.value == "escalated" for e in repo.alert_events(s, alert_id))


async def _buses(server: RedisServer, *names: str) -> list[RedisEventBus]:
    settings = ClusterSettings(redis_url=server.url, prefix="sweep", reconnect_max_s=0.3)
    buses = [RedisEventBus(settings, name) for name in names]
    for bus in buses:
        await bus.start()
    await asyncio.sleep(0.3)  # every reader has found the stream's end
    return buses


@pytest.mark.asyncio
async def test_a_due_handoff_is_escalated_once_across_nodes(db: Database, redis_server: RedisServer) -> None:
    now = datetime.now(UTC)
    due = _red(db, "due", "A-1", now - timedelta(seconds=AFTER_S + 2))
    fresh = _red(db, "fresh", "A-2", now - timedelta(seconds=1))  # not due yet
    acked = _red(db, "acked", "A-3", now - timedelta(seconds=AFTER_S + 2))
    ancient = _red(db, "ancient", "A-4", now - timedelta(hours=3))  # beyond the horizon
    with db.session() as s:
        repo.acknowledge_alert(s, acked, "sam")
    a1, a2, web = await _buses(redis_server, "a1", "a2", "web")
    try:
        wall = web.subscribe(lambda e: isinstance(e, HandoffEscalated))
        sweeps = [HandoffSweep(db, bus, after_s=AFTER_S, horizon_s=3600.0) for bus in (a1, a2)]
        # the node that raised the alert is alive too: its timer fires at the same moment
        timer = Escalator(db, a1, SystemClock(), after_s=0.0)
        timer.schedule(due, "due", "A-1", now - timedelta(seconds=AFTER_S + 2))
        won = await asyncio.gather(*(sweep.once() for sweep in sweeps))
        while timer.pending:
            await asyncio.sleep(0.05)
        assert sorted([*won[0], *won[1], *timer.escalated]) == [due]
        event = await asyncio.wait_for(wall.get(), 10)
        assert isinstance(event, HandoffEscalated)
        assert (event.call_id, event.alert_id, event.agent_id) == ("due", due, "A-1")
        await asyncio.sleep(0.5)
        assert wall.get_nowait() is None  # published once on the whole floor
        assert _escalations(db, due) == 1
        assert [_escalations(db, a) for a in (fresh, acked, ancient)] == [0, 0, 0]
        # later sweeps find nothing more to do
        assert await sweeps[0].once() == [] and await sweeps[1].once() == []
        await timer.shutdown()
    finally:
        for bus in (a1, a2, web):
            await bus.close()


@pytest.mark.asyncio
async def test_the_sweep_escalates_what_a_dead_nodes_timer_left(
    db: Database, redis_server: RedisServer
) -> None:
    """The node that raised the alert is gone (no timer at all): the next sweep after the
    handoff is due escalates it, with how long it waited. The sweep's clock is the fake one, so
    a slow machine setting up the buses cannot make the handoff due early."""
    clock = FakeClock(datetime.now(UTC))
    requested = clock.now() - timedelta(seconds=AFTER_S - 1.0)
    alert_id = _red(db, "orphan", "A-1", requested)
    (a2, web) = await _buses(redis_server, "a2", "web")
    try:
        wall = web.subscribe(lambda e: isinstance(e, HandoffEscalated))
        sweep = HandoffSweep(db, a2, after_s=AFTER_S, horizon_s=3600.0, clock=clock)
        assert await sweep.once() == []  # not due for another second
        await clock.advance(0.9)
        assert await sweep.once() == []  # nor a tenth of a second before
        await clock.advance(0.3)
        assert await sweep.once() == [alert_id]
        event = await asyncio.wait_for(wall.get(), 10)
        assert isinstance(event, HandoffEscalated) and event.alert_id == alert_id
        assert event.waited_s == AFTER_S + 0.2
        assert _escalations(db, alert_id) == 1
    finally:
        for bus in (a2, web):
            await bus.close()
