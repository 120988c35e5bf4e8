"""Waveform peaks of a call's recorded legs, computed on the server from the stored recording and
cached (:mod:`agent_monitor.storage.peaks`), so the review page draws both legs without
downloading and decoding the audio first.

- ``GET /api/calls/{call_id}/recordings/{leg}/peaks?buckets=N``: ``{"duration", "step", "min",
  "max"}`` (qa, supervisor, admin; the call must be in the user's scope).

A recording that is missing or unreadable on disk is a 404 that names the call and leg, never the
server's file path (the review page shows the message; the path is logged at WARNING), here and
for the audio itself (:func:`recording_unavailable`, also used by
``GET /api/calls/{call_id}/recordings/{leg}.wav``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from agent_monitor.audio.peaks import MAX_BUCKETS
from agent_monitor.errors import NotFoundError, RecordingError
from agent_monitor.model.audio import Leg
from agent_monitor.storage import repo
from agent_monitor.storage.peaks import recording_peaks
from agent_monitor.storage.recordings import locate_recording
from web.auth.deps import ReplayUser
from web.auth.scope import visible_call
from web.services import in_db, services_of

router = APIRouter(tags=["calls"])
log = logging.getLogger(__name__)


@router.get("/api/calls/{call_id:path}/recordings/{leg}/peaks")
async def peaks(
    request: Request,
    call_id: str,
    leg: Leg,
    user: ReplayUser,
    buckets: Annotated[int, Query(ge=10, le=MAX_BUCKETS)] = 1200,
) -> dict[str, Any]:
    """Min/max peaks of one leg's recording in ``buckets`` slices."""
    data_dir = services_of(request).settings.data_dir

    def job(s: Any) -> Any:
        visible_call(s, user, call_id)
        row = repo.get_recording(s, call_id, leg)
        if row is None:
            raise NotFoundError(f"call {call_id!r} has no {leg.value} recording")
        return locate_recording(services_of(request).settings.media_dir, call_id, leg, row.path)

    path = await in_db(request, job)
    try:
        found = await asyncio.to_thread(recording_peaks, data_dir, call_id, leg, path, buckets)
    except RecordingError as exc:
        raise recording_unavailable(call_id, leg, exc, "peaks") from exc
    return found.as_dict()


def recording_unavailable(call_id: str, leg: Leg, exc: RecordingError, what: str) -> NotFoundError:
    """The 404 for a client when ``what`` of a stored recording failed with ``exc``: it says
    whether the file is missing or cannot be read, not where it is; the server's log gets the
    path (``exc``'s message) at WARNING."""
    log.warning("%s of call %r, %s leg: %s", what, call_id, leg.value, exc)
    name = f"the {leg.value} recording of call {call_id!r}"
    if isinstance(exc.__cause__, FileNotFoundError):
        return NotFoundError(f"{name} is missing on the server")
    return NotFoundError(f"{name} cannot be read on the server")
