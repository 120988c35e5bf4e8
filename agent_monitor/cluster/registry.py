"""The registry of live calls in Redis: which node holds which call, and the claims on the calls of
dead nodes (:mod:`.keeper` runs it each beat and reaps what it claims).

Keys (``PREFIX`` is ``cluster.prefix``):

* ``PREFIX:calls``: a hash, call id -> JSON ``{"node", "instance", "info", "stats", "checklist",
  "at"}``: the call's :class:`CallInfo` (what the wall and the access policy need), its latest
  :class:`SessionStats`, the agent's checklist of required disclosures (the agent's panel on any
  node; absent from entries of nodes that predate it: empty), the process (``instance``) of the
  node that holds it and when that process last wrote it (UNIX seconds).
* ``PREFIX:node:NODE``: the node's presence, renewed every ``cluster.heartbeat_s`` with a TTL of
  ``cluster.node_ttl_s``.
* ``PREFIX:nodes``: a set of the node ids that beat (added each beat, removed once found absent):
  which nodes are present is asked of these and of the nodes the registry's entries name
  (:meth:`CallRegistry.nodes_present`, one script per call opening; no scan of the keyspace, so a
  Redis shared with other data costs the same). A node from before the set was kept is seen by
  the entries of its calls.

An analysis node writes its presence and its calls each beat (and removes the ones that ended,
each only while its entry is still this process's: a call another node has taken over since, or
opened under the same id, keeps that node's entry);
every node reads the whole hash into :class:`FloorCalls` (what web shows: this node's own sessions,
then the others' calls). Claims are exactly once: a Lua script removes a dead node's entry only
while it still names that node and the node is still absent, and only the caller that removed it
reaps the call.

**A node restarted under the same node id** (``HOST:PORT`` by default) may beat again before any
other node took it for dead (``serve`` waits only for its killed previous process's presence to
expire, :mod:`.node_id`); the calls that process held would stay listed forever. Each
process therefore has its own ``instance`` id, and the entries of a node's own id written by
another instance that were not rewritten for ``cluster.node_ttl_s`` (the same bound as a dead
node's, and by the same machine's clock) are :meth:`CallRegistry.stale`: the previous process is
gone. A second live process misconfigured with the same node id rewrites its entries every beat,
so they are never stale. The claim of a stale entry removes it only if it is still the one read.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from agent_monitor.cluster.entries import text
from agent_monitor.model.audio import Leg
from agent_monitor.model.event_codec import decode_call_info, decode_checklist
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.rules import RequiredDisclosure
from agent_monitor.model.session import CallInfo, LegStats, SessionStats
from agent_monitor.pipeline.live_calls import LiveCall, LiveCalls
from agent_monitor.settings import ClusterSettings
from agent_monitor.strict_json import loads_strict

log = logging.getLogger(__name__)

#: removes a dead node's call entry, atomically, only if it still names that node and the node's
#: presence key is absent; returns the entry (the caller won the claim) or nil
_CLAIM = """
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return false end
if cjson.decode(v)['node'] ~= ARGV[2] then return false end
if redis.call('EXISTS', KEYS[2]) == 1 then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
return v
"""

#: the nodes, of those in set KEYS[1] and ARGV[2..], whose presence key (ARGV[1] .. node) exists;
#: a member of the set found absent is removed from it (its next beat adds it again)
_PRESENT = """
local asked, present = {}, {}
local function ask(node)
  if asked[node] == nil then
    asked[node] = redis.call('EXISTS', ARGV[1] .. node) == 1
    if asked[node] then present[#present + 1] = node end
  end
  return asked[node]
end
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if not ask(node) then redis.call('SREM', KEYS[1], node) end
end
for i = 2, #ARGV do ask(ARGV[i]) end
return present
"""

#: removes the entries of calls ARGV[3..] that still name node ARGV[1] and its process ARGV[2]
#: (an entry another node has written since is kept; one that cannot be decoded is left alone)
_DROP_OWN = """
for i = 3, #ARGV do
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  if v then
    local ok, e = pcall(cjson.decode, v)
    if ok and type(e) == 'table' and e['node'] == ARGV[1] and e['instance'] == ARGV[2] then
      redis.call('HDEL', KEYS[1], ARGV[i])
    end
  end
end
return 0
"""

#: removes a call entry only if it is still exactly the value read (a previous instance's stale
#: entry: any rewrite since, by whoever, keeps it); returns 1 (the caller won the claim) or nil
_CLAIM_STALE = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
"""


@dataclass(frozen=True, slots=True)
class RemoteCall:
    """A live call as the registry holds it (a :class:`LiveCall`)."""

    call_id: str
    info: CallInfo
    stats: SessionStats
    node: str
    at: float
    #: the process of ``node`` that wrote the entry (``""``: written before instances were kept)
    instance: str = ""
    #: the agent's checklist of required disclosures as the node last wrote it
    checklist: tuple[RequiredDisclosure, ...] = ()


def presence_key(prefix: str, node: str) -> str:
    """The Redis key of a node's presence on the floor (renewed every beat, ``node_ttl_s`` TTL)."""
    return f"{prefix}:node:{node}"


def _entry(call: LiveCall, node: str, instance: str) -> str:
    info, stats = call.info.to_dict(), call.stats.to_dict()
    checklist = [d.to_dict() for d in call.checklist]
    entry = {"node": node, "instance": instance, "info": info, "stats": stats, "checklist": checklist}
    return json.dumps({**entry, "at": time.time()})


def _stats(data: dict[str, Any]) -> SessionStats:
    legs = {Leg(k): LegStats(**{f: v[f] for f in LegStats.__slots__}) for k, v in data["legs"].items()}
    return SessionStats(
        call_id=data["call_id"],
        legs=legs,
        level=WarningLevel(data["level"]),
        utterances=int(data["utterances"]),
        hits=int(data["hits"]),
        alerts=int(data["alerts"]),
        stress_samples=int(data["stress_samples"]),
    )


def _remote(call_id: str, raw: bytes | str) -> RemoteCall:
    data = loads_strict(raw)
    info = decode_call_info(data["info"])
    instance = str(data.get("instance", ""))
    checklist = decode_checklist(data.get("checklist", []))
    stats, node, at = _stats(data["stats"]), str(data["node"]), float(data["at"])
    return RemoteCall(call_id, info, stats, node, at, instance, checklist)


class CallRegistry:
    """This node's view of ``PREFIX:calls`` and its presence (see the module documentation).

    ``redis`` is a client that reads bytes (no ``decode_responses``, as the Redis bus's): one
    value that is not UTF-8 then spoils only its own entry, not the whole ``HGETALL``."""

    def __init__(
        self, redis: aioredis.Redis, settings: ClusterSettings, node: str, instance: str | None = None
    ) -> None:
        self.redis = redis
        self.settings = settings
        self.node = node
        self.calls_key = f"{settings.prefix}:calls"
        self.nodes_key = f"{settings.prefix}:nodes"
        #: this process (a restarted node is another instance of the same node id): the call
        #: manager's, which names it the holder of its calls' rows
        self.instance = instance or uuid.uuid4().hex
        self._claim = redis.register_script(_CLAIM)
        self._claim_stale = redis.register_script(_CLAIM_STALE)
        self._drop_own = redis.register_script(_DROP_OWN)
        self._present = redis.register_script(_PRESENT)
        self._raw: dict[str, bytes | str] = {}
        self._mine: set[str] = set()
        #: the calls of every node, as last read
        self.calls: dict[str, RemoteCall] = {}
        #: registry entries that could not be read (logged and left out), since start
        self.malformed = 0

    def presence_key(self, node: str) -> str:
        return presence_key(self.settings.prefix, node)

    async def nodes_present(self) -> frozenset[str] | None:
        """The nodes whose presence key is current (this one among them once it has beaten): those
        of ``PREFIX:nodes`` and those the registry's entries named when last read; None when Redis
        cannot be asked (logged)."""
        named = sorted({c.node for c in self.calls.values()})
        try:
            found = await self._present(keys=[self.nodes_key], args=[self.presence_key(""), *named])
        except (RedisError, OSError) as exc:
            log.warning(
                "cluster: could not ask which nodes are on the floor (%r): a call opened now "
                "is not checked against the other nodes' live calls",
                exc,
            )
            return None
        return frozenset(text(n) for n in found)

    async def beat(self, local: Sequence[LiveCall]) -> None:
        """Renew this node's presence and write its live calls; remove those that ended."""
        ttl_ms = int(self.settings.node_ttl_s * 1000)
        now = {c.call_id: _entry(c, self.node, self.instance) for c in local}
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(self.presence_key(self.node), str(time.time()), px=ttl_ms)
            pipe.sadd(self.nodes_key, self.node)
            if now:
                pipe.hset(self.calls_key, mapping=now)  # type: ignore[arg-type]
            ended = sorted(self._mine - set(now))
            if ended:
                args = [self.node, self.instance, *ended]
                await self._drop_own(keys=[self.calls_key], args=args, client=pipe)
            await pipe.execute()
        self._mine = set(now)

    async def read(self) -> dict[str, RemoteCall]:
        """Every call in the registry; each entry is decoded on its own (the client reads bytes),
        and one that cannot be read is logged, counted in :attr:`malformed` and left out."""
        raw: Any = await self.redis.hgetall(self.calls_key)
        calls, self._raw = {}, {}
        for key, value in raw.items():
            try:
                call_id = text(key)
                calls[call_id] = _remote(call_id, value)
                self._raw[call_id] = value
            except Exception as exc:  # one bad entry must not stop the round (dead nodes' reaping)
                self.malformed += 1
                log.error("registry: unreadable entry for call %r: %s: %s", key, type(exc).__name__, exc)
        self.calls = calls
        return calls

    async def dead_nodes(self) -> set[str]:
        """Nodes holding calls in the registry whose presence expired."""
        nodes = {c.node for c in self.calls.values()} - {self.node}
        if not nodes:
            return set()
        alive: Any = await self.redis.mget([self.presence_key(n) for n in sorted(nodes)])
        return {n for n, a in zip(sorted(nodes), alive, strict=True) if a is None}

    def clocks_ahead(self, margin_s: float) -> dict[str, float]:
        """The other nodes whose entries, as last read, are dated more than ``margin_s`` seconds
        ahead of this node's clock (written before they were read: the writer's clock is ahead by at
        least that much), each with the largest lead seen."""
        now = time.time()
        ahead: dict[str, float] = {}
        for call in self.calls.values():
            lead = call.at - now
            if call.node != self.node and lead > margin_s:
                ahead[call.node] = max(lead, ahead.get(call.node, 0.0))
        return ahead

    def stale(self) -> list[RemoteCall]:
        """Calls of this node id held by another (previous) process of it, not rewritten for
        ``cluster.node_ttl_s`` (as last read)."""
        before = time.time() - self.settings.node_ttl_s
        mine = [c for c in self.calls.values() if c.node == self.node and c.instance != self.instance]
        return [c for c in mine if c.at < before and c.call_id not in self._mine]

    def ghosts(self, held: set[str]) -> list[RemoteCall]:
        """Entries this process wrote for calls it no longer holds (as last read): a Redis restored
        from an older snapshot puts back the entries of calls that ended since, and no beat of this
        process would remove them (it removes only what its previous beat wrote)."""
        mine = [c for c in self.calls.values() if c.node == self.node and c.instance == self.instance]
        return [c for c in mine if c.call_id not in held]

    async def claim_stale(self, call: RemoteCall) -> bool:
        """Whether this process removed a stale entry of its node id (:meth:`stale`, or one of its
        :meth:`ghosts`) still as read."""
        raw = self._raw.get(call.call_id)
        if raw is None:
            return False
        won = await self._claim_stale(keys=[self.calls_key], args=[call.call_id, raw])
        return won is not None

    async def claim(self, call: RemoteCall) -> bool:
        """Whether this node won the claim on a dead node's call (exactly one node does); an
        entry the claim script cannot read (rewritten since it was read) is not claimed."""
        try:
            won = await self._claim(
                keys=[self.calls_key, self.presence_key(call.node)], args=[call.call_id, call.node]
            )
        except ResponseError as exc:
            log.error("registry: could not claim call %s of node %s: %s", call.call_id, call.node, exc)
            return False
        return won is not None


class FloorCalls:
    """:class:`LiveCalls` of a floor: this node's own sessions first, then the registry's."""

    def __init__(self, local: LiveCalls, registry: CallRegistry) -> None:
        self.local = local
        self.registry = registry

    def live_calls(self) -> list[LiveCall]:
        own = list(self.local.live_calls())
        ids = {c.call_id for c in own}
        return own + [c for c in self.registry.calls.values() if c.call_id not in ids]

    def get(self, call_id: str) -> LiveCall | None:
        return self.local.get(call_id) or self.registry.calls.get(call_id)
