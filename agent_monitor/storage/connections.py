"""How many connections a process may open against how many the database server has room for.

A process opens at most ``database.pool_size`` plus its overflow connections
(:meth:`~agent_monitor.settings.DatabaseSettings.overflow`); PostgreSQL accepts ``max_connections`` in all,
less those reserved for superusers (and, from version 16, for ``pg_use_reserved_connections``).
A server states both at its start (:func:`room_message`), so a floor's operator sees how many
nodes the database has room for before the last one is refused a connection. SQLite has no such
limit (one file, the connections of one process).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, text

__all__ = ["ServerConnections", "room_message", "server_connections"]

_SETTINGS = text(
    "SELECT name, setting FROM pg_settings WHERE name IN "
    "('max_connections', 'superuser_reserved_connections', 'reserved_connections')"
)
_OPEN = text("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")


@dataclass(frozen=True)
class ServerConnections:
    """What a PostgreSQL server allows, read once: its limit, the part reserved, and the client
    connections open when read (the reading one among them)."""

    max_connections: int
    reserved: int
    open: int

    @property
    def free(self) -> int:
        """Connections still to be had by an ordinary role (the reading one counted as free: it
        goes back to the reader's pool)."""
        return max(0, self.max_connections - self.reserved - self.open + 1)


def server_connections(engine: Engine) -> ServerConnections | None:
    """What the server of ``engine`` allows; ``None`` for SQLite."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        values = {str(row[0]): int(row[1]) for row in conn.execute(_SETTINGS)}
        open_now = int(conn.execute(_OPEN).scalar_one())
    reserved = values.get("superuser_reserved_connections", 0) + values.get("reserved_connections", 0)
    return ServerConnections(values["max_connections"], reserved, open_now)


def room_message(size: int, overflow: int, server: ServerConnections, name: str) -> tuple[bool, str]:
    """``(enough, message)``: whether ``server`` has room now for this process's whole pool of
    ``size`` + ``overflow`` connections, and the line a server logs at its start."""
    most = size + overflow
    mine = (
        f"this process opens at most {most} database connections (database.pool_size {size} + "
        f"overflow {overflow}), named {name!r} in pg_stat_activity"
    )
    theirs = (
        f"PostgreSQL allows {server.max_connections} ({server.reserved} reserved), "
        f"{server.open - 1} others open now"
    )
    if most > server.free:
        return False, (
            f"{mine}, but {theirs}: only {server.free} free; under load requests get 503 and calls "
            "are refused: raise max_connections or lower database.pool_size / database.max_overflow"
        )
    room = server.free // most
    return True, f"{mine}; {theirs}: room for {room} such process(es), this one among them"
