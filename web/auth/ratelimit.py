"""Login rate limiting: failed attempts per (username, client address) and per address in a sliding
window, in memory (one server process).

An attempt is counted *before* its password is checked (:meth:`LoginLimiter.reserve`) and taken
back when it succeeds, so parallel guesses cannot all pass the check before one failure is
recorded: at most the limit of them get through."""

from __future__ import annotations

import threading
import time
from collections import deque


class LoginLimiter:
    """``blocked(user, ip)`` says how many seconds remain before another attempt is allowed (0: now)."""

    def __init__(self, max_failures: int, max_per_ip: int, window_s: float) -> None:
        self.max_failures, self.max_per_ip, self.window_s = max_failures, max_per_ip, window_s
        self._by_key: dict[tuple[str, str], deque[float]] = {}
        self._by_ip: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _prune(self, q: deque[float], now: float) -> None:
        while q and q[0] <= now - self.window_s:
            q.popleft()

    def _wait(self, q: deque[float] | None, limit: int, now: float) -> float:
        if q is None:
            return 0.0
        self._prune(q, now)
        return q[0] + self.window_s - now if len(q) >= limit else 0.0

    def blocked(self, username: str, ip: str, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        with self._lock:
            return self._blocked(username, ip, now)

    def _blocked(self, username: str, ip: str, now: float) -> float:
        return max(
            self._wait(self._by_key.get((username.lower(), ip)), self.max_failures, now),
            self._wait(self._by_ip.get(ip), self.max_per_ip, now),
        )

    def reserve(self, username: str, ip: str, now: float | None = None) -> tuple[float, float]:
        """Count an attempt as failed unless it is blocked, in one step: ``(wait, stamp)``; ``wait``
        > 0 means refused (nothing counted); else pass ``stamp`` to :meth:`succeeded` when the
        attempt succeeds (a failure needs nothing more: it is already counted)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            wait = self._blocked(username, ip, now)
            if wait <= 0:
                self._count(username, ip, now)
            return wait, now

    def failed(self, username: str, ip: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._count(username, ip, now)

    def _count(self, username: str, ip: str, now: float) -> None:
        """Record a failure (the lock is held)."""
        self._by_key.setdefault((username.lower(), ip), deque()).append(now)
        self._by_ip.setdefault(ip, deque()).append(now)
        if len(self._by_ip) > 10000:  # bound memory under a spray of addresses
            for key in [k for k, q in self._by_ip.items() if not q or q[-1] <= now - self.window_s]:
                del self._by_ip[key]
            for k2 in [k for k, q in self._by_key.items() if not q or q[-1] <= now - self.window_s]:
                del self._by_key[k2]

    def succeeded(self, username: str, ip: str, stamp: float | None = None) -> None:
        """The user's failures from this address are forgotten; ``stamp`` (from :meth:`reserve`)
        takes the succeeding attempt's own count back from the address too."""
        with self._lock:
            self._by_key.pop((username.lower(), ip), None)
            by_ip = self._by_ip.get(ip)
            if stamp is not None and by_ip is not None and stamp in by_ip:
                by_ip.remove(stamp)
