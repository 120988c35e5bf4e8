"""Starting a live call from an ingest protocol's start message, the same on every protocol.

While the data directory is full (:class:`~.disk_space.DiskWatch`) no call starts, and a start
that fails for lack of space marks the disk full (``/healthz`` says so): both are an
:class:`~agent_monitor.errors.IngestStorageError` ``call not started: disk full ...`` (a websocket
closes with 1013, try again later; AudioSocket sends it in an error frame). So is a start whose
call row cannot be written because the database is not available (down, or every connection of
the process's pool busy for ``database.pool_timeout_s``): ``call not started: the database is not
available right now; try again`` (it was a server error, 1011). Any other refusal of the call is
an :class:`~agent_monitor.errors.IngestProtocolError` ``call not started: ...``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent_monitor.errors import (
    AgentMonitorError,
    DatabaseUnavailableError,
    IngestProtocolError,
    IngestStorageError,
)
from agent_monitor.ingest.disk_space import DiskWatch, disk_full_cause
from agent_monitor.ingest.ws_ingest import StartMessage, to_call_info
from agent_monitor.model.session import Source

if TYPE_CHECKING:
    from agent_monitor.pipeline import CallManager, CallSession
    from agent_monitor.settings import LiveSettings

#: the server cannot take the call now (disk full, database unavailable): the client may try again later
CLOSE_TRY_AGAIN_LATER = 1013


async def start_live_call(
    manager: CallManager, start: StartMessage, source: Source, live: LiveSettings, disk: DiskWatch | None
) -> CallSession:
    """The session of the call ``start`` describes (see the module documentation)."""
    problem = disk.problem() if disk is not None else None
    if problem is not None:
        raise IngestStorageError(f"call not started: {problem}", CLOSE_TRY_AGAIN_LATER)
    try:
        return await manager.start_call(to_call_info(start, source, live))
    except (AgentMonitorError, OSError) as exc:
        full = disk_full_cause(exc)
        if full is not None:
            if disk is not None:
                disk.failed(full.strerror or str(full))
            raise IngestStorageError(
                f"call not started: disk full ({full.strerror})", CLOSE_TRY_AGAIN_LATER
            ) from None
        if isinstance(exc, OSError):
            raise
        if isinstance(exc, DatabaseUnavailableError):
            raise IngestStorageError(f"call not started: {exc}", CLOSE_TRY_AGAIN_LATER) from None
        raise IngestProtocolError(f"call not started: {exc}") from None
