"""Client side of ``GET /api/languages``: may a call in this language be transcribed by that server?

``replay`` and ``capture`` ask before streaming, so a call in a language the server has no model
for is refused loudly on the client (``--record-only`` streams it anyway: the server records it,
does not transcribe it, and shows a signal-health warning).
"""

from __future__ import annotations

from typing import Any

from agent_monitor.errors import ConfigError, StreamingClientError

#: the schemes ``--server`` may have (none: ``http``)
SERVER_SCHEMES = ("http", "https", "ws", "wss")


def split_server_url(server: str) -> tuple[str, str]:
    """``server`` (``host:port``, or a URL whose scheme is http, https, ws or wss) as ``(scheme,
    rest)``: the scheme (``http`` when none is given) and what follows ``://``, without a trailing
    ``/``. :class:`ConfigError` for another scheme (``ftp://x`` became ``ws://ftp://x``), no host or
    a port that is not a number, before anything connects."""
    from urllib.parse import urlsplit

    scheme, sep, rest = server.partition("://")
    if not sep:
        scheme, rest = "http", server
    scheme, rest = scheme.lower(), rest.rstrip("/")
    if scheme not in SERVER_SCHEMES:
        raise ConfigError(f"server URL {server!r}: the scheme must be http, https, ws or wss, not {scheme!r}")
    try:
        parts = urlsplit(f"http://{rest}")
        host, _ = parts.hostname, parts.port
    except ValueError as exc:
        raise ConfigError(f"server URL {server!r}: {exc}") from exc
    if not host:
        raise ConfigError(f"server URL {server!r}: no host (e.g. http://127.0.0.1:8000)")
    return scheme, rest


def http_url(server: str, path: str) -> str:
    """``host:port``, ``http(s)://`` or ``ws(s)://`` base URL plus ``path`` as an HTTP URL."""
    scheme, rest = split_server_url(server)
    return f"{'https' if scheme in ('https', 'wss') else 'http'}://{rest}{path}"


def server_languages(
    server: str, agent_id: str, lang: str | None, timeout_s: float = 10.0
) -> dict[str, Any] | None:
    """The server's answer for a call of ``agent_id`` in ``lang`` (``None``: the server's choice).

    ``None`` when the server cannot be reached at all (the stream then reports its own connection
    error)."""
    import httpx

    params = {"agent_id": agent_id, **({"lang": lang} if lang else {})}
    url = http_url(server, "/api/languages")
    try:
        response = httpx.get(url, params=params, timeout=timeout_s)
    except httpx.TransportError:
        return None
    if response.status_code != 200:
        raise StreamingClientError(f"{url}: HTTP {response.status_code}: {response.text[:200]}")
    try:
        data = response.json()
        call = data["call"]
        str(call["lang"]), bool(call["transcribed"])
    except (ValueError, KeyError, TypeError) as exc:
        raise StreamingClientError(f"{url}: not an Agent Monitor languages answer") from exc
    return dict(data)


def check_transcribed(server: str, agent_id: str, lang: str | None, *, record_only: bool) -> str:
    """The call's language on ``server``; raises unless it is transcribed there or ``record_only``.

    Returns a warning line to print when the call will be recorded only (else an empty string)."""
    data = server_languages(server, agent_id, lang)
    if data is None:
        return ""
    call = data["call"]
    if call["transcribed"]:
        return ""
    can = ", ".join(sorted(data.get("transcribed", {}))) or "no language"
    problem = (
        f"the server at {server} has no {call['lang']} speech model (it transcribes {can}): "
        f"a {call['lang']} call would be recorded but not transcribed"
    )
    if not record_only:
        raise StreamingClientError(f"{problem}; install the model on the server, or pass --record-only")
    return f"WARNING: {problem} (--record-only)"
