"""The web application's generated secrets: the session signing key and the ingest token.

Given in the settings they are used as they are; otherwise each is generated at random on first
start into a file under ``data_dir`` readable by the owner only, and read back on later starts (so
sessions and machine clients survive a restart). Nothing has a default value. On a floor every node
needs the same two (a session signed by one node's key is refused by the others, and the phone
switch sends one token to every analysis node): :func:`unshared_on_floor` names the ones a floor
node would make for itself.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from agent_monitor.errors import ConfigError
from agent_monitor.settings import Settings

SECRET_KEY_FILE = "web-secret.key"
INGEST_TOKEN_FILE = "ingest-token"


def _read_or_create(path: Path, make: int) -> str:
    if path.exists():
        try:
            value = path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read: {exc}") from exc
        if len(value) < 32:
            raise ConfigError(f"{path}: too short to be a secret (delete it to generate a new one)")
        return value
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(make)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return _read_or_create(path, make)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot create: {exc}") from exc
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(value + "\n")
    return value


def secret_key(settings: Settings) -> bytes:
    given = settings.web.secret_key
    if given is not None:
        value = given.get_secret_value()
        if len(value) < 32:
            raise ConfigError("web.secret_key must be at least 32 characters")
        return value.encode("utf-8")
    return _read_or_create(settings.data_dir / SECRET_KEY_FILE, 48).encode("ascii")


def ingest_token(settings: Settings) -> str:
    """The token machine clients present; ``agent-monitor replay|demo|capture`` read it from here."""
    given = settings.web.ingest_token
    if given is not None:
        value = given.get_secret_value()
        if len(value) < 16:
            raise ConfigError("web.ingest_token must be at least 16 characters")
        return value
    return _read_or_create(settings.data_dir / INGEST_TOKEN_FILE, 32)


def client_ingest_token(settings: Settings) -> str | None:
    """The token a client (``agent-monitor replay|capture``) sends: ``web.ingest_token`` when set,
    else the token file of the local server's ``data_dir`` if there is one (never created here)."""
    given = settings.web.ingest_token
    if given is not None:
        return given.get_secret_value()
    path = settings.data_dir / INGEST_TOKEN_FILE
    if not path.is_file():
        return None
    try:
        return path.read_text(encoding="ascii").strip() or None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc


def unshared_on_floor(settings: Settings) -> list[str]:
    """On a floor (``cluster.redis_url``): a line for each secret this node would generate for
    itself where every node needs the same (see the module documentation)."""
    if settings.cluster.redis_url is None:
        return []
    lines = []
    if settings.web.secret_key is None:
        lines.append(
            "web.secret_key is not set: a session signed on this node is refused by the floor's other"
            " nodes (give every node the same web.secret_key)"
        )
    if settings.web.ingest_token is None and settings.cluster.role != "web":
        lines.append(
            "web.ingest_token is not set: this node's token differs from the floor's other nodes'"
            " (give every node the same web.ingest_token)"
        )
    return lines
