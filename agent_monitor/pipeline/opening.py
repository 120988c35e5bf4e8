"""Opening a call's recordings and row, and undoing an opening that fails or is cancelled.

The call row is written in a database thread (:meth:`CallStore.now`) that a cancellation cannot
stop: a start cancelled while it runs (its client gone, the server shutting down) would leave the
row set ``live`` with no session holding it (until the next start marked it ``aborted``). So the
row's write is shielded from the cancellation, and :func:`undo_opening` waits for it (at most
``bound_s``) and ends the row ``aborted`` when this opening wrote it ``live``: a new call or a
resumed one. A row this opening did not write (its write failed, e.g. another agent's call id)
is left as it was; so are recordings it did not register. A recording it registered (a resumed
call's is opened again) is closed with its size and hash, as a call's end closes it."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any, Protocol

from agent_monitor.errors import RecordingError
from agent_monitor.model.audio import Leg
from agent_monitor.model.session import CallInfo, Holder
from agent_monitor.pipeline import records
from agent_monitor.pipeline.session import CallSession
from agent_monitor.settings import Settings
from agent_monitor.storage import CallStatus
from agent_monitor.storage.recordings import RecordingWriter, recording_path

log = logging.getLogger(__name__)

#: (the call's info as stored, resumed, the next utterance number per leg)
Opened = tuple[CallInfo, bool, dict[Leg, int]]


async def open_recordings(session: CallSession, settings: Settings) -> None:
    """One recording per leg, new or continued. A recording that cannot go on (a resume at
    another sample rate) is refused with a message that names the leg, not the server's path."""
    info = session.info
    for leg in (Leg.AGENT, Leg.DEBTOR):
        path = recording_path(settings.media_dir, info.call_id, leg)
        try:
            session.recordings[leg] = await asyncio.to_thread(
                RecordingWriter,
                path,
                info.sample_rate,
                flush_interval_s=settings.live.recording_flush_s,
                resume=True,
            )
        except RecordingError as exc:
            log.error("call %s: %s", info.call_id, exc)
            reason = str(exc).removeprefix(f"{path}: ")
            raise RecordingError(f"the {leg.value} leg's recording cannot go on: {reason}") from None


class FloorNodes(Protocol):
    """The floor, as an opening asks it whether another node holds the call
    (:class:`agent_monitor.cluster.registry.CallRegistry`)."""

    async def nodes_present(self) -> frozenset[str] | None:
        """The nodes whose presence is current; None when the floor cannot be asked now."""
        ...


class RowOpening:
    """The write that starts (or resumes) one call's row, held by process ``holder`` (the call
    manager's), which a cancellation does not stop. On a ``floor``, a call live on another node
    whose presence is current is refused (a :class:`ConflictError`, "call C is live on node N"):
    asked before the recordings are touched (:meth:`refuse_held_elsewhere`) and again under the
    row's lock as it is written, so that a call is never live on two nodes at once."""

    def __init__(self, session: CallSession, holder: Holder, floor: FloorNodes | None = None) -> None:
        self.session = session
        self.holder = holder
        self.floor = floor
        #: the floor's nodes as last asked (None: alone, or the floor could not be asked)
        self._present: frozenset[str] | None = None
        self._row: asyncio.Future[Opened] | None = None
        #: each leg's registration of its recording with the row (a resumed call's: opened again)
        self._recordings: dict[Leg, asyncio.Future[Any]] = {}

    async def refuse_held_elsewhere(self) -> None:
        """On a floor, refuse the call if another node whose presence is current holds it live
        (alone, or while the floor cannot be asked: nothing to refuse)."""
        if self.floor is None:
            return
        self._present = await self.floor.nodes_present()
        if self._present is not None:
            check = records.refuse_held_elsewhere(self.session.call_id, self.holder.node, self._present)
            await self.session.store.now(check)

    async def open(self) -> Opened:
        """Start the row (:func:`records.open_call`); cancelled, the write still runs to its end."""
        opening = records.open_call(self.session.info, self.holder, self._present)
        self._row = asyncio.ensure_future(self.session.store.now(opening))
        return await asyncio.shield(self._row)

    async def register_recordings(self) -> None:
        """Register each leg's recording with the row (after :meth:`open` and the store's start);
        cancelled, a registration queued still runs to its end."""
        info = self.session.info
        node = self.holder.node  # the writer named on the rows (sealing on a floor)
        for leg, writer in self.session.recordings.items():
            write = records.register_recording(
                info.call_id, leg, str(writer.path), info.sample_rate, info.started_at, node
            )
            self._recordings[leg] = self.session.store.submit(write, urgent=True)
            await asyncio.shield(self._recordings[leg])

    async def written(self, bound_s: float) -> tuple[bool, list[Leg]]:
        """Whether this opening wrote the row (it is ``live``), and the legs whose recording it
        registered, waiting up to ``bound_s`` for writes still running; one still running then
        is logged (the next start marks the row aborted)."""
        writes = [w for w in (self._row, *self._recordings.values()) if w is not None]
        if not writes:
            return False, []
        _, late = await asyncio.wait(writes, timeout=bound_s)
        if late:
            log.warning(
                "call %s: %d of its start's writes still running %.1f s after the start failed; "
                "its row may stay live until the next start",
                self.session.call_id,
                len(late),
                bound_s,
            )
        return _done(self._row), [leg for leg, write in self._recordings.items() if _done(write)]


def _done(write: asyncio.Future[Any] | None) -> bool:
    return write is not None and write.done() and not write.cancelled() and write.exception() is None


async def undo_opening(session: CallSession, row: RowOpening, at: datetime, bound_s: float) -> None:
    """Close what a failed or cancelled opening left open: the recordings (those it registered
    closed in the database too), and the call row, ended ``aborted`` at ``at`` if the opening
    wrote it (see the module documentation)."""
    live, registered = await row.written(bound_s)
    if live:
        session.store.start()
    await session.close_recordings(at, stored=registered)  # none registered unless live
    if live:
        session.store.submit(
            records.end_call(session.call_id, CallStatus.ABORTED, at, session.store.instance)
        )
    await session.store.close()
