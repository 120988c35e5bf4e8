"""What the routes use, built once when the application starts: :class:`Services`.

The application's lifespan (:mod:`web.app`) builds it and keeps it in ``app.state.services``;
routes receive it typed through FastAPI's dependency injection::

    async def route(services: ServicesDep) -> ...

and code holding only a request or websocket uses :func:`services_of`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from fastapi import Depends
from starlette.requests import HTTPConnection

from agent_monitor.data_dir_lock import DataDirLock
from agent_monitor.ingest.disk_space import DiskWatch
from agent_monitor.model.stages import Stages, TranscriberFactory
from agent_monitor.settings import Settings
from web.loop_monitor import LoopLagMonitor
from web.metrics import PrometheusMetrics

if TYPE_CHECKING:
    from agent_monitor.cluster.keeper import NodeKeeper
    from agent_monitor.ingest.audiosocket import LegRegistry
    from agent_monitor.ingest.audiosocket_server import AudioSocketServer
    from agent_monitor.pipeline import CallManager, EventBus
    from agent_monitor.pipeline.live_calls import LiveCalls
    from agent_monitor.storage import Database
    from agent_monitor.storage.anchors import AnchorWriter

T = TypeVar("T")


@dataclass
class Services:
    """What the routes use; built once by the lifespan."""

    settings: Settings
    db: Database
    stages: Stages
    bus: EventBus
    manager: CallManager
    registry: LegRegistry
    audiosocket: AudioSocketServer | None = None
    loop_lag: LoopLagMonitor = field(default_factory=LoopLagMonitor)
    anchors: AnchorWriter | None = None
    aborted_at_start: list[str] = field(default_factory=list)
    data_dir_lock: DataDirLock | None = None
    #: the Prometheus registry of this application (the call manager reports to it)
    metrics: PrometheusMetrics = field(default_factory=PrometheusMetrics)
    #: the live calls the pages show: the manager's, plus other nodes' on a floor (Redis)
    live: LiveCalls | None = None
    #: this node's presence and calls in the floor's registry (with ``cluster.redis_url``)
    keeper: NodeKeeper | None = None
    disk: DiskWatch = field(init=False)

    def __post_init__(self) -> None:
        if self.live is None:
            self.live = self.manager
        self.disk = DiskWatch(self.settings.data_dir, self.settings.server.min_free_disk_mb)
        self.metrics.watch(self.settings, self.manager, self.bus, self.loop_lag)

    @property
    def calls(self) -> LiveCalls:
        """The live calls to show (:attr:`live`, set after construction)."""
        assert self.live is not None
        return self.live

    @property
    def models(self) -> TranscriberFactory:
        """The speech models by call language."""
        return self.stages.transcribers


def services_of(conn: HTTPConnection) -> Services:
    """The application's :class:`Services` (the lifespan has started)."""
    services = getattr(conn.app.state, "services", None)
    if not isinstance(services, Services):
        raise RuntimeError("the application has not started (no app.state.services)")
    return services


#: ``services: ServicesDep`` in a route's parameters (HTTP or websocket)
ServicesDep = Annotated[Services, Depends(services_of)]


async def in_db(conn: HTTPConnection, job: Callable[[Any], T]) -> T:
    """Run ``job(session)`` in a worker thread inside one committed database session."""
    db = services_of(conn).db

    def run() -> T:
        with db.session() as s:
            return job(s)

    return await asyncio.to_thread(run)
