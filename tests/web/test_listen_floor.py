"""Listen-in on a floor whose nodes share no directory (``cluster.shared_dir`` unset): a call that
another node holds is refused with its reason ("held by another node, whose recordings this node
cannot read"), not as a call that is not live, and nothing is audited as listened to. This node is
a real application joined to a real ``redis-server`` (its keeper reads the registry); the other
node is a registry writing the call's entry as an analysis node's beat does; the call is stored."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import redis.asyncio as aioredis

from agent_monitor.cluster.registry import CallRegistry
from agent_monitor.model.roles import Role
from agent_monitor.model.session import CallInfo, Holder
from agent_monitor.settings import Settings
from agent_monitor.storage import repo
from tests.agent_monitor.cluster.registry_support import Held
from tests.redis_support import RedisServer
from tests.web.auth_support import add_users, app_settings, running
from web.auth.deps import CurrentUser
from web.ui.live_ws import _may_listen


async def _beat_elsewhere(settings: Settings, info: CallInfo) -> None:
    """Node "there" lists the call in the registry (its presence lasts ``node_ttl_s``)."""
    client = aioredis.from_url(str(settings.cluster.redis_url))
    try:
        await CallRegistry(client, settings.cluster, "there", "p1").beat([Held(info)])
    finally:
        await client.aclose()


def test_a_call_held_elsewhere_without_a_shared_directory_is_refused_with_its_reason(
    tmp_path: Path, base_settings: Settings
) -> None:
    with RedisServer(tmp_path / "redis") as server:
        settings = app_settings(base_settings, tmp_path / "data")
        cluster = {"redis_url": server.url, "prefix": "lf", "node_id": "here", "node_ttl_s": 60.0}
        settings = settings.model_copy(update={"cluster": settings.cluster.model_copy(update=cluster)})
        with running(settings) as client:
            add_users(client)
            services = client.app.state.services  # type: ignore[attr-defined]
            with services.db.session() as s:
                holder = Holder("there", "p1")
                repo.start_call(s, "r1", "A-ONE", source_protocol="ws-ingest", resume=True, holder=holder)
            asyncio.run(_beat_elsewhere(settings, CallInfo("r1", "A-ONE")))
            deadline = time.monotonic() + 10  # this node's keeper reads the registry every beat
            while services.calls.get("r1") is None:
                assert time.monotonic() < deadline, "the other node's call never reached this node"
                time.sleep(0.1)
            supervisor = CurrentUser("sup_red", Role.SUPERVISOR, team="red-team")
            refused = _may_listen(services, supervisor, "r1")
            assert refused == "call r1 is held by another node, whose recordings this node cannot read"
            with services.db.session() as s:
                assert not [e for e in repo.list_audit(s, limit=100) if e.action == "listen_in"]
