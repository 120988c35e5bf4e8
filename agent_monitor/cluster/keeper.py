"""Each node's part in the floor's registry (:mod:`.registry`): its presence and calls written every
beat, the registry read, and the calls of dead nodes reaped.

Every node with Redis runs a :class:`NodeKeeper`: an analysis node beats (presence and calls) and
runs the escalation sweep (:mod:`.handoffs`); every node applies the rule pack choices an admin
stored on another node (:func:`agent_monitor.pipeline.rule_packs.follow_rule_packs`) and watches: it
reads the registry and reaps the calls of nodes whose presence expired. The node that wins a call's
claim marks it ``aborted`` in the database and then publishes :class:`CallEnded` (critical) on the
bus, so every wall shows it. A call the phone switch reconnected to another node in the meantime is
that node's entry and is left alone; so is one whose opening there set it live before that node's
first beat moved the entry: the opening named its own process the call's holder (``call_holders``),
and the database marks a call aborted only while it names the dead process (the rows read under a
lock; nothing is published then). The entries a node's previous process left
(:meth:`.CallRegistry.stale`) are reaped by the node itself, and so are the entries of calls it
ended that a Redis restored from an older snapshot put back (:meth:`.CallRegistry.ghosts`; removed,
nothing published).

**A Redis outage is not a death.** A presence key expires when its node has not beaten for
``cluster.node_ttl_s``, also when Redis was away (restarted, or cut off from the floor) for that
long: the calls hash survives a restart in Redis's append-only or snapshot file, the presence keys
do not. The node whose watch reads the registry first after an outage would take every other node
for dead, mark their live calls aborted and end them on every wall while they go on. So a keeper
reaps nothing until it has watched the floor for ``node_ttl_s`` without a break (from its first
round that read the registry, and again after any round that could not reach Redis): by then every
live node has beaten again (``node_ttl_s`` is at least two beats), and a node still absent had
Redis for a whole ``node_ttl_s`` and did not beat. Reaping a dead node's calls therefore waits up to
``node_ttl_s`` longer after a node's start or an outage it saw; a node cut off from Redis alone is
still taken for dead by the others (nothing in Redis tells it from a dead one). Not covered: an
outage that begins and ends inside one long round of this node's watch (a reap retrying the
database for up to 15.5 s) with no Redis command of the round failing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import UTC, datetime
from pathlib import Path

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from agent_monitor.cluster.handoffs import HandoffSweep
from agent_monitor.cluster.registry import CallRegistry, RemoteCall
from agent_monitor.errors import StorageError
from agent_monitor.model.events import CallEnded
from agent_monitor.pipeline.bus import EventBus
from agent_monitor.pipeline.live_calls import LiveCall
from agent_monitor.storage import Database, repo
from agent_monitor.storage.recording_seal import SealedAtStart, seal_left_open

log = logging.getLogger(__name__)

#: a node whose registry entries are dated this many seconds ahead of this node's clock is named in
#: the log: a hand-off is escalated by the sweeping node's clock against the time the raising node
#: wrote, so a node N seconds ahead escalates N seconds early
CLOCK_AHEAD_WARN_S = 2.0

#: tries to mark a dead node's call aborted in the database (0.5 s, doubling, between them)
DB_ATTEMPTS = 5


class NodeKeeper:
    """Each beat: this node's presence and calls (unless it holds none: a web node), the whole
    registry read, and the calls of dead nodes reaped (aborted in the database, then
    :class:`CallEnded` on the bus)."""

    def __init__(
        self,
        registry: CallRegistry,
        held: Callable[[], Sequence[LiveCall]],
        db: Database,
        bus: EventBus,
        *,
        holds_calls: bool,
        sweep: HandoffSweep | None = None,
        media_dir: Path | None = None,
        follow_packs: Callable[[], Awaitable[object]] | None = None,
        opening: Callable[[], Collection[str]] = frozenset,
    ) -> None:
        self.registry = registry
        #: the calls whose opening runs on this process now (not held yet: a resume of a dead or
        #: previous process's call is not reaped under it)
        self.opening = opening
        #: applies the rule pack choices another node stored, every ``cluster.packs_check_s``
        self.follow_packs = follow_packs
        #: where this node's recordings are (``None``: a web node, which writes none)
        self.media_dir = media_dir
        #: the escalation sweep this node runs (an analysis or ``all`` node), every
        #: ``cluster.escalation_sweep_s``
        self.sweep = sweep
        #: the calls this node holds until their end is published (stopping ones included: a node
        #: that dies while a call finishes its audio still has the call reaped)
        self.held = held
        self.db = db
        self.bus = bus
        self.holds_calls = holds_calls
        self._tasks: list[asyncio.Task[None]] = []
        #: calls of dead nodes this node marked aborted
        self.reaped: list[str] = []
        #: the nodes whose clocks ran ahead of this one's at the last watch (named once in the log)
        self.clocks_ahead: set[str] = set()
        #: since when (``time.monotonic``) every round of the watch has read the registry (``None``:
        #: none yet since start, or the last one could not reach Redis)
        self.watching_since: float | None = None

    def start(self) -> None:
        """Two tasks: the presence beat alone (a slow reap or database never delays it, so a
        busy node is not taken for dead) and the watch (registry read, dead nodes reaped)."""
        every = self.registry.settings.heartbeat_s
        self._tasks = [asyncio.create_task(self._run(self.watch, every), name="cluster-watch")]
        if self.holds_calls:
            self._tasks.append(asyncio.create_task(self._run(self.beat, every), name="cluster-beat"))
        if self.sweep is not None:
            sweep_every = self.registry.settings.escalation_sweep_s
            self._tasks.append(asyncio.create_task(self._run(self._sweep, sweep_every), name="cluster-sweep"))
        if self.follow_packs is not None:
            packs_every = self.registry.settings.packs_check_s
            packs = self._run(self._follow_packs, packs_every)
            self._tasks.append(asyncio.create_task(packs, name="cluster-packs"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self.holds_calls:
            with contextlib.suppress(RedisError, OSError):
                await self.registry.redis.delete(self.registry.presence_key(self.registry.node))

    async def _run(self, step: Callable[[], Awaitable[None]], every: float) -> None:
        while True:
            try:
                await step()
            except (RedisError, OSError) as exc:
                log.warning("cluster: registry not reachable (%r); retrying", exc)
            except (SQLAlchemyError, StorageError) as exc:
                log.warning("cluster: database not reachable (%r); retrying", exc)
            except Exception:  # the beat and the watch of dead nodes must outlive one bad round
                log.exception("cluster: a registry round failed; retrying")
            await asyncio.sleep(every)

    async def once(self) -> None:
        """One beat (a node that holds calls) and one watch, in this order."""
        if self.holds_calls:
            await self.beat()
        await self.watch()

    async def _sweep(self) -> None:
        assert self.sweep is not None
        await self.sweep.once()

    async def _follow_packs(self) -> None:
        assert self.follow_packs is not None
        await self.follow_packs()

    async def beat(self) -> None:
        await self.registry.beat(self.held())

    async def watch(self) -> None:
        """Read the registry; then, once this node has watched the floor for ``node_ttl_s``
        without a break, reap the calls of dead nodes and of this node's previous process."""
        try:
            await self.registry.read()
            self._check_clocks()
            if self.holds_calls:
                await self._drop_ghosts()
            if self._watched_long_enough():
                await self._reap_gone()
        except (RedisError, OSError):
            self.watching_since = None  # an outage: what is absent after it proves nobody dead
            raise

    async def _drop_ghosts(self) -> None:
        """Remove the entries of calls this process no longer holds (:meth:`.CallRegistry.ghosts`):
        every wall would show them live for ever. Nothing is published: their end was, when they
        ended."""
        for call in self.registry.ghosts(self._here()):
            if await self.registry.claim_stale(call):
                self.registry.calls.pop(call.call_id, None)
                log.warning(
                    "cluster: call %s ended here; its entry came back (an older Redis snapshot?)",
                    call.call_id,
                )

    def _check_clocks(self) -> None:
        """Name in the log, once, each node whose clock runs ahead of this one's (again if it comes
        back after its clock was set right)."""
        ahead = self.registry.clocks_ahead(CLOCK_AHEAD_WARN_S)
        for node in sorted(set(ahead) - self.clocks_ahead):
            log.warning(
                "cluster: node %s's clock is at least %.1f s ahead of this node's (%s): hand-offs are "
                "escalated by each node's own clock; keep the nodes' clocks in step (NTP)",
                node,
                ahead[node],
                self.registry.node,
            )
        self.clocks_ahead = set(ahead)

    def _here(self) -> set[str]:
        """The calls this process holds or is opening now."""
        return {c.call_id for c in self.held()} | set(self.opening())

    def _watched_long_enough(self) -> bool:
        now = time.monotonic()
        if self.watching_since is None:
            self.watching_since = now
        return now - self.watching_since >= self.registry.settings.node_ttl_s

    async def _reap_gone(self) -> None:
        """The calls of dead nodes, and of this node's previous process, claimed and reaped; not
        one this process holds or is opening (the switch reconnected it here: its row names this
        process once opened, and its entry comes with the next beat; an opening that fails leaves
        it to the next round). Asked before each claim: a reap may wait seconds on the database."""
        for node in await self.registry.dead_nodes():
            log.info("cluster: node %s stopped heartbeating", node)
            for call in [c for c in self.registry.calls.values() if c.node == node]:
                if call.call_id not in self._here() and await self.registry.claim(call):
                    await self._reap(call, f"node {call.node} stopped")
        if self.holds_calls:  # calls of this node's previous process (restarted within node_ttl_s)
            for call in self.registry.stale():
                if call.call_id not in self._here() and await self.registry.claim_stale(call):
                    await self._reap(call, f"node {call.node} restarted")

    async def _reap(self, call: RemoteCall, reason: str) -> None:
        """A claimed call of a gone process: marked aborted, then ``CallEnded`` to every wall (also
        for one found ended: the walls drop it). A call the phone switch reconnected to another
        process meanwhile (its opening named that process the call's holder; its entry comes with
        its next beat) is left to it, unannounced. The walls hear of the end even when the database
        cannot be told."""
        now = datetime.now(UTC)
        self.registry.calls.pop(call.call_id, None)
        outcome = await self._abort(call, now)
        if outcome == "resumed":
            log.info("cluster: %s; call %s was resumed by another process: left to it", reason, call.call_id)
            return
        self.reaped.append(call.call_id)
        duration = max(0.0, (now - call.info.started_at).total_seconds())
        level = call.stats.level
        await self.bus.publish(CallEnded(call.call_id, duration, "aborted", reason, level, duration))
        if outcome != "aborted":
            return
        log.warning("cluster: %s; call %s marked aborted", reason, call.call_id)
        if call.node == self.registry.node and self.media_dir is not None:
            await self._seal_own(call.call_id, now, self.media_dir)

    async def _abort(self, call: RemoteCall, at: datetime) -> repo.AbortOutcome | None:
        """:func:`repo.abort_call` for the entry's process; ``None`` when the database could not
        be told."""

        def job() -> repo.AbortOutcome:
            with self.db.session() as s:
                return repo.abort_call(s, call.call_id, at=at, instance=call.instance)

        for attempt in range(DB_ATTEMPTS):
            try:
                return await asyncio.to_thread(job)
            except (SQLAlchemyError, StorageError) as exc:
                log.warning("cluster: marking call %s aborted failed (%r); retrying", call.call_id, exc)
                await asyncio.sleep(0.5 * 2**attempt)
        log.error("cluster: call %s of dead node %s could not be marked aborted", call.call_id, call.node)
        return None

    async def _seal_own(self, call_id: str, at: datetime, media_dir: Path) -> None:
        """Seal the recordings of a call this node's previous process left open: that process is
        gone (its entry went stale), so nothing writes them any more (a call resumed on another
        node names that node as their writer, and is not touched)."""

        def job() -> SealedAtStart:
            with self.db.session() as s:
                return seal_left_open(s, media_dir, at, writer=self.registry.node, call_id=call_id)

        try:
            sealed = await asyncio.to_thread(job)
        except (SQLAlchemyError, StorageError) as exc:
            log.error("cluster: call %s: its recordings could not be sealed (%r); left open", call_id, exc)
            return
        for problem in sealed.problems:
            log.warning("cluster: %s", problem)
