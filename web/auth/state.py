"""The per-application authentication state (``app.state.auth``): the token signer, the login
limits, the ingest token, and a cache of the sessions ended by logout (the database table
``revoked_sessions`` is the record; it survives restarts)."""

from __future__ import annotations

import threading
import time
from functools import cached_property

from agent_monitor.accounts.secrets import ingest_token, secret_key
from agent_monitor.settings import Settings
from web.auth.floor_limit import LoginLimits
from web.auth.ratelimit import LoginLimiter
from web.auth.tokens import TokenSigner


class AuthState:
    """Secrets are read (or generated) on first use, not when the application is built."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        web = settings.web
        limiter = LoginLimiter(web.login_max_failures, web.login_max_failures_per_ip, web.login_window_s)
        #: the sign-in limits (in Redis on a floor: :mod:`web.auth.floor_limit`)
        self.limits = LoginLimits(limiter, settings.cluster.prefix)
        #: session ids this process saw ended by logout -> their expiry (a fast path; the database
        #: keeps every revocation, see :func:`web.auth.deps.session_of`)
        self._revoked: dict[str, float] = {}
        self._lock = threading.Lock()

    @cached_property
    def signer(self) -> TokenSigner:
        return TokenSigner(secret_key(self.settings))

    @cached_property
    def ingest_token(self) -> str:
        return ingest_token(self.settings)

    def load_secrets(self) -> None:
        """Read or generate the signing key and the ingest token now (at application start)."""
        _ = self.signer, self.ingest_token

    def revoke(self, sid: str, expires_at: float) -> None:
        now = time.time()
        with self._lock:
            self._revoked[sid] = expires_at
            for key in [k for k, exp in self._revoked.items() if exp <= now]:
                del self._revoked[key]

    def revoked(self, sid: str) -> bool:
        with self._lock:
            return sid in self._revoked
