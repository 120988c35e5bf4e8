"""How uvicorn runs the application (``serve`` and ``demo``): logging, proxies, timeouts, sizes.

- ``X-Forwarded-For`` / ``X-Forwarded-Proto`` are trusted only from the addresses listed in
  ``web.trusted_proxies`` (none by default: uvicorn would otherwise trust them from 127.0.0.1,
  and anyone on the host could pick the client address the login limiter and audit log see);
- request heads must arrive within ``server.header_timeout_s`` (:mod:`web.slow_clients`);
- log lines carry UTC timestamps and no secrets (:mod:`web.logging_config`);
- websocket messages are limited to 1 MiB, and sent and received uncompressed: per-message deflate
  costs the event loop CPU on every audio frame (telephone audio does not compress; profiled under
  8 live calls it was 8% of the event loop thread) and a zlib state per connection;
- every websocket is pinged every ``server.ws_ping_interval_s`` and closed when its peer leaves a
  ping unanswered for ``server.ws_ping_timeout_s`` (a half-open connection: an ingest call then ends
  ``aborted``, as AudioSocket's idle timeout ends its leg).
"""

from __future__ import annotations

from typing import Any

from agent_monitor.settings import Settings
from web.logging_config import log_config
from web.slow_clients import header_timeout_protocol

WS_MAX_SIZE = 1 << 20


def uvicorn_options(settings: Settings, level: str = "INFO") -> dict[str, Any]:
    """Keyword arguments of ``uvicorn.run`` / ``uvicorn.Config`` for ``settings`` (no host/port)."""
    proxies = settings.web.trusted_proxies
    return {
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": ",".join(proxies) if proxies else "",
        "log_config": log_config(level),
        "http": header_timeout_protocol(settings.server.header_timeout_s),
        "ws_max_size": WS_MAX_SIZE,
        "ws_per_message_deflate": False,
        "ws_ping_interval": settings.server.ws_ping_interval_s,
        "ws_ping_timeout": settings.server.ws_ping_timeout_s,
    }
