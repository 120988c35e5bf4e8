"""One process per node id on a floor: ``serve`` refuses to start under the id of a running node.

A floor node's start marks aborted the live calls its node id holds and seals the recordings its
node wrote (its previous process's: :mod:`web.app`). A second process started under a running
node's id (two hosts given one ``cluster.node_id``, a copied configuration file) would mark that
node's live calls aborted and seal recordings it is still writing. So before anything else a node
that holds calls (role ``analysis`` or ``all``) watches its id's presence key
(:func:`.registry.presence_key`, rewritten every ``cluster.heartbeat_s`` with the time by the
process that holds the id): a value that changes means another process beats under the id, and the
start fails with one line; a key that expires was left by a previous process that is gone (a
restart after a crash waits for it: at most the key's remaining time, the ``cluster.node_ttl_s``
of the process that wrote it, since a process that beats renews its key before it expires). With
Redis unreachable the start goes on (the node retries Redis in the background, as before) and says
it could not check. A web node holds no calls and writes no presence: it is not checked.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import redis

from agent_monitor.cluster.registry import presence_key
from agent_monitor.errors import NodeIdInUseError
from agent_monitor.settings import ClusterSettings, Settings


def check_node_id_free(settings: Settings, sleep: Callable[[float], None] = time.sleep) -> str | None:
    """Fail with :class:`NodeIdInUseError` while another process beats under this node's id (see
    the module documentation); returns a line for the log when the start waited or could not
    check, else ``None``."""
    cluster = settings.cluster
    if cluster.redis_url is None or cluster.role == "web":
        return None
    node = settings.node_id
    try:
        url = str(cluster.redis_url)
        with redis.Redis.from_url(url, socket_connect_timeout=2.0, socket_timeout=5.0) as client:
            return _watch_presence(client, presence_key(cluster.prefix, node), node, cluster, sleep)
    except (redis.RedisError, OSError) as exc:
        return f"could not check that node id {node!r} is free (Redis: {exc}); starting"


def _watch_presence(
    client: redis.Redis, key: str, node: str, cluster: ClusterSettings, sleep: Callable[[float], None]
) -> str | None:
    """Watch ``key`` until it changes (another process beats: refused) or expires (a previous
    process's: gone). A process that beats renews its key before it expires, so waiting out the
    key's own remaining time (the running node's ``node_ttl_s``, whatever this node's is) sees
    one or the other."""
    first = client.get(key)
    if first is None:
        return None
    left_ms = client.pttl(key)
    deadline = time.monotonic() + max(cluster.node_ttl_s, left_ms / 1000) + cluster.heartbeat_s
    while time.monotonic() < deadline:
        sleep(cluster.heartbeat_s / 2)
        now = client.get(key)
        if now is None:
            return f"waited for node id {node!r}'s previous process's presence to expire"
        if now != first:
            raise NodeIdInUseError(
                f"node id {node!r} is in use by a running node (its presence in Redis is "
                "renewed): give each node its own cluster.node_id"
            )
    return f"node id {node!r}'s presence in Redis neither changed nor expired: starting"
