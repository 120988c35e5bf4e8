"""Login rate limiting: failed attempts per (username, client address) and per address in a sliding
window, in memory (one server process)."""

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
            return max(
                self._wait(self._by_key.get((username.lower(), ip)), self.max_failures, now),
                self._wait(self._by_ip.get(ip), self.max_per_ip, now),
            )

    def failed(self, username: str, ip: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._by_key.setdefault((username.lower(), ip), deque()).append(now)
            self._by_ip.setdefault(ip, deque()).append(now)
            if len(self._by_ip) > 10000:  # bound memory under a spray of addresses
                for key in [k for k, q in self._by_ip.items() if not q or q[-1] <= now - self.window_s]:
                    del self._by_ip[key]
                for k2 in [k for k, q in self._by_key.items() if not q or q[-1] <= now - self.window_s]:
                    del self._by_key[k2]

    def succeeded(self, username: str, ip: str) -> None:
        with self._lock:
            self._by_key.pop((username.lower(), ip), None)
