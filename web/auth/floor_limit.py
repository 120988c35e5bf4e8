"""The login limits of a floor: failed sign-ins counted in Redis, so that every node refuses alike.

Each process's :class:`~web.auth.ratelimit.LoginLimiter` counts only the attempts it saw. On a
floor every node serves the sign-in page (web, analysis and ``all`` nodes alike), so behind a load
balancer that spreads requests over N nodes a guesser had N times the limit (5 failures per user
and address per minute, 20 per address). With ``cluster.redis_url`` the counts live in Redis
instead: a sorted set per (user, address) and per address, ``PREFIX:login:...``, scored by Redis's
own clock (the nodes' clocks never enter), checked and counted by one script (parallel guesses on
several nodes cannot all pass), expiring after ``web.login_window_s``. A success takes the user's
failures from that address back, as on one process. While Redis cannot be asked the node's own
limiter counts (as on one process; logged).
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError

from web.auth.ratelimit import LoginLimiter
from web.services import Services

log = logging.getLogger(__name__)

#: KEYS: the user's and the address's sets; ARGV: window (ms), their limits, this attempt's member.
#: Drops what left the window; refused: the milliseconds until the oldest counted one leaves it;
#: else counts the attempt in both and returns 0.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limits = {tonumber(ARGV[2]), tonumber(ARGV[3])}
local wait = 0
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= limits[i] then
    local oldest = tonumber(redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2])
    wait = math.max(wait, oldest + window - now)
  end
end
if wait <= 0 then
  for _, key in ipairs(KEYS) do
    redis.call('ZADD', key, now, ARGV[4])
    redis.call('PEXPIRE', key, window)
  end
end
return wait
"""


@dataclass(frozen=True, slots=True)
class Attempt:
    """A sign-in attempt as the limits saw it."""

    #: seconds until another attempt is allowed (0: this one is allowed, and counted)
    wait: float
    #: where it was counted: its member in Redis, or the local limiter's stamp
    member: str | None = None
    stamp: float | None = None


class LoginLimits:
    """The sign-in limits: in Redis when a floor's client is given (see the module documentation),
    else (no floor, or Redis unreachable) in ``local``."""

    def __init__(self, local: LoginLimiter, prefix: str) -> None:
        self.local = local
        self.prefix = prefix

    def _keys(self, username: str, ip: str) -> list[str]:
        user = json.dumps([username.lower(), ip])
        return [f"{self.prefix}:login:user:{user}", f"{self.prefix}:login:ip:{ip}"]

    async def reserve(self, redis: Any | None, username: str, ip: str) -> Attempt:
        """Count the attempt as failed unless it is refused, in one step (as
        :meth:`LoginLimiter.reserve`)."""
        if redis is not None:
            member = uuid.uuid4().hex
            limits = [self.local.max_failures, self.local.max_per_ip]
            args = [int(self.local.window_s * 1000), *limits, member]
            try:
                wait_ms = await redis.eval(_RESERVE, 2, *self._keys(username, ip), *args)
            except (RedisError, OSError) as exc:
                log.warning("login limits: Redis not reachable (%r); counting on this node", exc)
            else:
                wait = int(wait_ms) / 1000
                return Attempt(wait) if wait > 0 else Attempt(0.0, member=member)
        wait, stamp = self.local.reserve(username, ip)
        return Attempt(wait) if wait > 0 else Attempt(0.0, stamp=stamp)

    async def succeeded(self, redis: Any | None, username: str, ip: str, attempt: Attempt) -> None:
        """The user's failures from this address are forgotten, and this attempt's count taken back."""
        if attempt.member is None:
            self.local.succeeded(username, ip, attempt.stamp)
            return
        user, by_ip = self._keys(username, ip)
        try:
            if redis is not None:
                await redis.delete(user)
                await redis.zrem(by_ip, attempt.member)
        except (RedisError, OSError) as exc:
            log.warning("login limits: Redis not reachable (%r); the failures stay counted", exc)


def floor_redis(services: Services) -> Any | None:
    """The floor's Redis client (the bus's), or ``None``: one server, no floor."""
    from agent_monitor.cluster.redis_bus import RedisEventBus

    return services.bus.redis if isinstance(services.bus, RedisEventBus) else None
