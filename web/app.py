"""The FastAPI application: ``build_app(settings, open_stages)``; the server's factory is
:func:`agent_monitor.compose.create_app`, which passes the composition root's ``open_stages``.

The lifespan builds the process's singletons from the settings, in order: the database
(migrated to the current schema; calls left ``live`` by a crash are marked ``aborted``, their
data kept), the stages (:class:`agent_monitor.model.stages.Stages`, from ``open_stages``: the
speech model of each call language, the rule set, the stress scorers), the event bus, the call
manager and, unless ``settings.server.audiosocket_port`` is ``None``, the Asterisk AudioSocket
TCP listener. They live in ``app.state.services`` (:class:`web.services.Services`).

Routes: ``/ws/ingest`` (:mod:`web.ingest.ws_ingest`), ``/ws/twilio`` (:mod:`web.ingest.twilio`),
``/ws/events`` (:mod:`web.events`), ``GET /api/live``, ``POST /api/audiosocket/register`` and
``GET /api/metrics`` and ``GET /healthz`` (:mod:`web.api_live`), ``GET /metrics`` (Prometheus,
:mod:`web.api_metrics`). Every ``GET`` route answers ``HEAD`` too (:mod:`web.head`).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import SQLAlchemyError

from agent_monitor.cluster.node import close_bus, join_floor
from agent_monitor.data_dir_lock import DataDirLock
from agent_monitor.model.stages import Stages
from agent_monitor.settings import Settings
from web.errors import install_error_handler
from web.head import HeadAsGet
from web.json_guard import StrictJson, validation_error_response
from web.metrics import PrometheusMetrics
from web.services import Services

if TYPE_CHECKING:
    from agent_monitor.storage import Database

log = logging.getLogger(__name__)

#: builds the stages from the settings, off the event loop (:func:`agent_monitor.compose.open_stages`)
StageOpener = Callable[[Settings], Awaitable[Stages]]


async def build_services(settings: Settings, open_stages: StageOpener) -> Services:
    """Open everything the live server needs (blocking steps run in threads), holding the data
    directory's lock from before the database is touched until :func:`close_services`."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    lock = DataDirLock(settings.data_dir).acquire()  # before the database: see agent_monitor.data_dir_lock
    try:
        services = await _open_services(settings, open_stages)
    except BaseException:
        lock.release()
        raise
    services.data_dir_lock = lock
    return services


async def _open_services(settings: Settings, open_stages: StageOpener) -> Services:
    from agent_monitor.cluster.node import open_bus
    from agent_monitor.ingest.audiosocket import LegRegistry
    from agent_monitor.pipeline import CallManager
    from agent_monitor.pipeline.rule_packs import follow_rule_packs, load_rule_packs
    from agent_monitor.storage import Database, repo, upgrade_database
    from agent_monitor.storage.anchors import AnchorWriter, anchor_path
    from agent_monitor.storage.recording_seal import SealedAtStart, seal_left_open

    name = f"agent-monitor {settings.node_id}"  # its connections, in pg_stat_activity
    db = await asyncio.to_thread(Database.open, settings, name=name)

    def prepare_db() -> tuple[list[str], SealedAtStart]:
        upgrade_database(db.engine)
        floor = settings.cluster.redis_url is not None  # a shared database: other nodes' live
        if floor and settings.cluster.role == "web":  # calls are theirs (dead ones: cluster.keeper)
            return [], SealedAtStart((), ())
        own = settings.node_id if floor else None  # on a floor: its previous process's only
        with db.session() as s:  # the calls a crash left live
            aborted = repo.abort_live_calls(s, node=own)
        with db.session() as s:  # then what they (and earlier ones) left open
            return aborted, seal_left_open(s, settings.media_dir, datetime.now(UTC), writer=own)

    aborted, sealed = await asyncio.to_thread(prepare_db)
    await asyncio.to_thread(_say_connection_room, db, settings, name)
    if aborted:
        log.warning("marked %d call(s) left live by a previous run as aborted: %s", len(aborted), aborted)
    if sealed.sealed:
        log.warning("sealed %d recording(s) left open by a previous run", len(sealed.sealed))
    for problem in sealed.problems:
        log.warning("%s", problem)
    stages = await open_stages(settings)
    bus = await open_bus(settings)  # in-process, or over Redis with cluster.redis_url
    metrics = PrometheusMetrics()
    manager = CallManager(settings, stages, db, bus, metrics=metrics)
    await load_rule_packs(manager)  # the packs enabled, disabled and uploaded from the admin page
    manager.outbox.start()  # writes left in journals by an earlier run go to the database
    server = settings.server
    anchors = AnchorWriter(db, anchor_path(settings.data_dir), server.anchor_every_s)
    anchors.start()
    registry = LegRegistry(server.audiosocket_registration_ttl_s, server.audiosocket_max_registrations)
    services = Services(
        settings,
        db,
        stages,
        bus,
        manager,
        registry,
        aborted_at_start=aborted,
        anchors=anchors,
        metrics=metrics,
    )
    # with cluster.redis_url: the registry of live calls, the dead-node watch, other nodes' packs
    await join_floor(services, follow_packs=partial(follow_rule_packs, manager))
    return services


async def close_services(services: Services) -> None:
    await services.loop_lag.stop()
    if services.keeper is not None:
        await services.keeper.stop()
    if services.audiosocket is not None:
        await services.audiosocket.close()
    await services.manager.shutdown()
    await close_bus(services.bus)  # after the calls' last events
    if services.anchors is not None:
        await services.anchors.stop()
    await asyncio.to_thread(services.stages.close)
    services.db.dispose()
    if services.data_dir_lock is not None:
        services.data_dir_lock.release()


def audiosocket_port(settings: Settings) -> int | None:
    """The port the server's AudioSocket listener opens, or ``None``: none set, or a web node
    (which takes no calls)."""
    return settings.server.audiosocket_port if settings.cluster.role != "web" else None


def build_app(
    settings: Settings, open_stages: StageOpener, audiosocket_sockets: list[socket.socket] | None = None
) -> FastAPI:
    """The application for ``settings`` (nothing is opened until the lifespan starts, which then
    builds the stages with ``open_stages``); the AudioSocket listener listens on
    ``audiosocket_sockets`` where they are given (bound already), else binds its port itself."""
    from web import api_live, api_metrics, events
    from web.ingest import twilio, ws_ingest

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await build_services(settings, open_stages)
        try:
            port = audiosocket_port(settings)
            if port is not None:
                from agent_monitor.ingest.audiosocket_server import AudioSocketServer

                services.audiosocket = AudioSocketServer(
                    services.manager, services.registry, settings, services.disk
                )
                await services.audiosocket.start(settings.server.host, port, audiosocket_sockets)
            services.loop_lag.start()
            app.state.services = services
            yield
        finally:
            await close_services(services)

    app = FastAPI(title="Agent Monitor", lifespan=lifespan)
    if settings.cluster.role != "web":  # a web node takes no calls
        app.include_router(ws_ingest.router)
        app.include_router(twilio.router)
    app.include_router(events.router)
    app.include_router(api_live.router)
    app.include_router(api_metrics.router)
    from web.auth import install_auth
    from web.ui import install_ui

    install_auth(app, settings)
    install_ui(app, settings)
    app.add_middleware(StrictJson)
    app.add_exception_handler(RequestValidationError, validation_error_response)
    install_error_handler(app)
    app.add_middleware(HeadAsGet)  # added last: the outermost, every route sees a HEAD as its GET
    return app


def _say_connection_room(db: Database, settings: Settings, name: str) -> None:
    """Log how many connections this process may open against the room PostgreSQL has for them
    (a warning where the whole pool does not fit now); nothing on SQLite."""
    from agent_monitor.storage.connections import room_message, server_connections

    try:
        server = server_connections(db.engine)
    except SQLAlchemyError as exc:  # a role not allowed to read pg_settings: said, not fatal
        log.warning("database: cannot read PostgreSQL's connection limit: %s", exc)
        return
    if server is not None:
        size, overflow = settings.database.pool_size, settings.database_overflow
        enough, message = room_message(size, overflow, server, name)
        log.log(logging.INFO if enough else logging.WARNING, "database: %s", message)
