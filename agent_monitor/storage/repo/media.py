"""Recording metadata: which file holds which leg of which call, its size and checksum."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent_monitor.errors import ConflictError, NotFoundError
from agent_monitor.model.audio import Leg
from agent_monitor.storage.repo.calls import get_call
from agent_monitor.storage.tables import Recording
from agent_monitor.storage.types import as_utc

#: the only sample format the recording writer produces
PCM_S16LE = "pcm_s16le"


def register_recording(
    session: Session,
    call_id: str,
    leg: Leg,
    path: str,
    sample_rate: int,
    *,
    started_at: datetime | None = None,
    writer: str | None = None,
) -> Recording:
    """Record that ``leg`` of the call is being written to ``path`` (by node ``writer``).
    Registering the same leg again with the same path (a resumed call) returns the existing row,
    re-opened, naming its new writer."""
    get_call(session, call_id)
    rec = get_recording(session, call_id, leg, lock=True)  # reopened as it is, not as first read
    if rec is not None:
        if rec.path != path or rec.sample_rate != sample_rate:
            raise ConflictError(f"call {call_id!r} {leg} leg is already recorded to {rec.path}")
        rec.closed_at, rec.sha256, rec.writer = None, None, writer
        return rec
    rec = Recording(
        call_id=call_id,
        leg=Leg(leg),
        path=path,
        sample_rate=sample_rate,
        encoding=PCM_S16LE,
        bytes_written=0,
        samples_written=0,
        started_at=as_utc(started_at),
        writer=writer,
    )
    session.add(rec)
    session.flush()
    return rec


def update_recording_progress(
    session: Session, call_id: str, leg: Leg, *, bytes_written: int, samples_written: int
) -> Recording:
    """The size of a recording still being written. A closed (sealed) recording keeps the size it
    was sealed with: a progress report written after its close (a journal written back late) is
    stale."""
    rec = require_recording(session, call_id, leg)
    if rec.sha256 is None:
        rec.bytes_written, rec.samples_written = bytes_written, samples_written
    return rec


def close_recording(
    session: Session,
    call_id: str,
    leg: Leg,
    *,
    bytes_written: int,
    samples_written: int,
    sha256: str,
    closed_at: datetime | None = None,
) -> Recording:
    """The leg's file is complete: store its final size and the sha256 of the whole file."""
    rec = require_recording(session, call_id, leg)
    rec.bytes_written, rec.samples_written = bytes_written, samples_written
    rec.sha256, rec.closed_at = sha256, as_utc(closed_at)
    return rec


def get_recording(session: Session, call_id: str, leg: Leg, *, lock: bool = False) -> Recording | None:
    """The leg's recording row; with ``lock``, locked for this transaction and read as committed
    once the lock is had (PostgreSQL; a node sealing it meanwhile holds it until it commits)."""
    stmt = select(Recording).where(Recording.call_id == call_id, Recording.leg == Leg(leg))
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).one_or_none()


def require_recording(session: Session, call_id: str, leg: Leg) -> Recording:
    rec = get_recording(session, call_id, leg)
    if rec is None:
        raise NotFoundError(f"no {leg} recording for call {call_id!r}")
    return rec


def list_recordings(session: Session, call_id: str) -> list[Recording]:
    stmt = select(Recording).where(Recording.call_id == call_id).order_by(Recording.leg)
    return list(session.scalars(stmt))
