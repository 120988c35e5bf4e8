"""One process per node id on a floor: ``serve`` refuses to start under the id of a running node.

A floor node's start marks aborted the live calls its node id holds and seals the recordings its
node wrote (its previous process's: :mod:`web.app`). A second process started under a running
node's id (two hosts given one ``cluster.node_id``, a copied configuration file) would mark that
node's live calls aborted and seal recordings it is still writing. So before anything else a node
that holds calls (role ``analysis`` or ``all``) watches its id's presence key
(:func:`.registry.presence_key`, rewritten every ``cluster.heartbeat_s`` with the time by the
process that holds the id): a value that changes means another process beats under the id, and the
start fails with one line; a key that expires was left by a previous process that is gone (a
restart after a crash waits for it, at most ``cluster.node_ttl_s``). With Redis unreachable the
start goes on (the node retries Redis in the background, as before) and says it could not check.
A web node holds no calls and writes no presence: it is not checked.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import redis

from agent_monitor.cluster.registry import presence_key
from agent_monitor.errors import NodeIdInUseError
from agent_monitor.settings import Settings


def check_node_id_free(settings: Settings, sleep: Callable[[float], None] = time.sleep) -> str | None:
    """Fail with :class:`NodeIdInUseError` while another process beats under this node's id (see
    the module documentation); returns a line for the log when the start waited or could not
    check, else ``None``."""
    cluster = settings.cluster
    if cluster.redis_url is None or cluster.role == "web":
        return None
    node = settings.node_id
    key = presence_key(cluster.prefix, node)
    try:
        with redis.Redis.from_url(
            str(cluster.redis_url), socket_connect_timeout=2.0, socket_timeout=5.0
        ) as r:
            first = r.get(key)
            if first is None:
                return None
            deadline = time.monotonic() + cluster.node_ttl_s
            while time.monotonic() < deadline:
                sleep(cluster.heartbeat_s / 2)
                now = r.get(key)
                if now is None:
                    break
                if now != first:
                    raise NodeIdInUseError(
                        f"node id {node!r} is in use by a running node (its presence in Redis is "
                        "renewed): give each node its own cluster.node_id"
                    )
    except (redis.RedisError, OSError) as exc:
        return f"could not check that node id {node!r} is free (Redis: {exc}); starting"
    return f"waited for node id {node!r}'s previous process's presence to expire"
