"""Nodes of a floor for the registry tests: the calls a node holds, its :class:`NodeKeeper` on a real
``redis-server`` (short beats: ``heartbeat_s`` 0.2, ``node_ttl_s`` 0.6) and a call's row as its
opening writes it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import redis.asyncio as aioredis

from agent_monitor.cluster.keeper import NodeKeeper
from agent_monitor.cluster.registry import CallRegistry
from agent_monitor.model.audio import Leg
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.rules import RequiredDisclosure
from agent_monitor.model.session import CallInfo, Holder, LegStats, SessionStats
from agent_monitor.pipeline.bus import InProcessEventBus
from agent_monitor.settings import ClusterSettings
from agent_monitor.storage import CallStatus, Database, repo
from tests.redis_support import RedisServer


@dataclass
class Held:
    """A call as a node holds it (what the registry reads of a session)."""

    info: CallInfo
    level: WarningLevel = WarningLevel.ORANGE
    checklist: tuple[RequiredDisclosure, ...] = ()

    @property
    def call_id(self) -> str:
        return self.info.call_id

    @property
    def stats(self) -> SessionStats:
        legs = {Leg.AGENT: LegStats(3.0, 2.5, 0.5, 1, 0.02)}
        return SessionStats(self.call_id, legs, self.level, 4, 1, 1, 2)


class Node:
    """The live calls of one node (a ``LiveCalls``), and those whose opening runs on it."""

    def __init__(self) -> None:
        self.calls: dict[str, Held] = {}
        self.opening: set[str] = set()

    def live_calls(self) -> list[Held]:
        return list(self.calls.values())

    def get(self, call_id: str) -> Held | None:
        return self.calls.get(call_id)


OPEN: list[NodeKeeper] = []


async def close_all() -> None:
    while OPEN:
        await OPEN.pop().registry.redis.aclose()


def keeper(
    server: RedisServer, db: Database, name: str, node: Node, *, holds: bool = True, media: Path | None = None
) -> NodeKeeper:
    settings = ClusterSettings(redis_url=server.url, prefix="t", heartbeat_s=0.2, node_ttl_s=0.6)
    client = aioredis.from_url(server.url)  # bytes, as the bus's client
    registry = CallRegistry(client, settings, name)
    bus = InProcessEventBus()
    opening = node.opening.copy
    made = NodeKeeper(registry, node.live_calls, db, bus, holds_calls=holds, media_dir=media, opening=opening)
    OPEN.append(made)
    return made


def start_row(db: Database, info: CallInfo, by: NodeKeeper | None = None) -> None:
    """The call's row started, or resumed, by the process of ``by`` (as its call manager's
    opening names it the holder; none: a row stored before holders were kept)."""
    holder = None if by is None else Holder(by.registry.node, by.registry.instance)
    with db.session() as s:
        repo.start_call(
            s,
            info.call_id,
            info.agent_id,
            source_protocol="ws-ingest",
            started_at=info.started_at,
            resume=True,
            holder=holder,
        )


def status(db: Database, call_id: str) -> CallStatus:
    with db.session() as s:
        return repo.get_call(s, call_id).status
