"""Recording files checked against the sha256 sealed when they were closed.

:meth:`~agent_monitor.storage.recordings.RecordingWriter.close` finalises the WAV header and takes
the sha256 of the **whole file** as it is on disk (header and audio); the ``recordings`` row stores
it (``close_recording``) and the evidence log seals that row. A file edited afterwards (audio
zeroed, cut, replaced) no longer hashes to it. :func:`verify_recording_files` (``db verify``)
rehashes every closed recording, streamed; :func:`read_sealed` reads one for the evidence export
and refuses a file that does not match. A recording that is still open (``sha256`` NULL: a live
call, or one whose writer never closed it) has nothing sealed yet and is skipped.

A server killed mid-call (a crash, SIGKILL, a power cut) leaves its recordings open. At the next
start of a single server (it holds the data directory's lock, and has just marked the calls left
live aborted: nothing writes them any more) :func:`seal_left_open` seals each as it is on disk:
its header repaired to describe all the audio that reached the file, then its size and sha256
stored, ``closed_at`` the time of that start. Before, such a recording stayed unsealed for ever
(``db verify``: "open ... skipped"), unless its call was resumed.

On a floor of several nodes (one database, no such lock) each recording names the node that writes
it (``recordings.writer``, :attr:`~agent_monitor.settings.Settings.node_id`), and only that node
seals it, once its previous process is gone: at the node's start, the recordings of its calls that
other nodes have meanwhile marked aborted (the node was away longer than ``cluster.node_ttl_s``),
and when it reaps the calls its previous process left live (restarted sooner; see
:mod:`agent_monitor.cluster.keeper`). A node that never comes back leaves its recordings open
until an administrator seals them (``agent-monitor db seal-open --writer NODE``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent_monitor.errors import ConflictError, RecordingError
from agent_monitor.model.audio import BYTES_PER_SAMPLE, Leg
from agent_monitor.storage.chain import ChainReport
from agent_monitor.storage.enums import CallStatus
from agent_monitor.storage.evidence import digest_matches
from agent_monitor.storage.recordings import file_sha256, locate_recording, repair_recording
from agent_monitor.storage.tables import Call, EvidenceEntry, Recording
from agent_monitor.storage.types import as_utc

REPORT_NAME = "recording_files"


@dataclass(frozen=True, slots=True)
class FilesReport:
    """``report``: the closed recordings checked and the problems found; ``open``: the recordings
    skipped because they are still open (nothing sealed yet)."""

    report: ChainReport
    open: tuple[str, ...]


def _label(call_id: str, leg: Any) -> str:
    return f"recordings: call {call_id!r} {Leg(leg).value} leg"


def file_problem(media_dir: Path, call_id: str, leg: Leg, stored_path: str, sealed: str) -> str | None:
    """Why the closed recording's file does not match its sealed sha256, or None when it does."""
    path = locate_recording(media_dir, call_id, leg, stored_path)
    label = _label(call_id, leg)
    try:
        actual = file_sha256(path)
    except FileNotFoundError:
        return f"{label}: file {path} is missing"
    except OSError as exc:
        return f"{label}: file {path} cannot be read: {exc.strerror or exc}"
    if actual != sealed:
        return f"{label}: file {path} does not match the sha256 sealed when it was closed (modified)"
    return None


def verify_recording_files(session: Session, media_dir: Path) -> FilesReport:
    """Hash every closed recording's file (streamed) and compare it with its sealed sha256."""
    table = Recording.__table__
    columns = (table.c.call_id, table.c.leg, table.c.path, table.c.sha256, table.c.writer)
    rows = session.execute(select(*columns).order_by(table.c.id)).all()
    problems: list[str] = []
    open_: list[str] = []
    checked = 0
    for call_id, leg, path, sealed, writer in rows:
        if sealed is None:  # the node that wrote it: whose start (or `db seal-open`) seals it
            by = f" (written by node {writer!r})" if writer is not None else ""
            open_.append(f"call {call_id!r} {Leg(leg).value} leg{by}")
            continue
        checked += 1
        if (problem := file_problem(media_dir, call_id, Leg(leg), path, sealed)) is not None:
            problems.append(problem)
    return FilesReport(ChainReport(REPORT_NAME, checked, 0, "", tuple(problems)), tuple(open_))


@dataclass(frozen=True, slots=True)
class SealedAtStart:
    """What :func:`seal_left_open` did: the recordings sealed, and those it could not (left open)."""

    sealed: tuple[str, ...]
    problems: tuple[str, ...]


#: ``seal_left_open(writer=UNNAMED)``: the recordings that name no writer (stored before 0017)
UNNAMED = ""


def seal_left_open(
    session: Session, media_dir: Path, at: datetime, *, writer: str | None = None, call_id: str | None = None
) -> SealedAtStart:
    """Seal every open recording of a call that is not live, as it is on disk (see the module
    documentation); on a floor only those node ``writer`` wrote (:data:`UNNAMED`: those that name
    none), of call ``call_id`` where given, their rows locked meanwhile (a call resumed on another
    node names that node once the lock is released, and reopens the row). A file that is missing
    or unreadable is named and left open."""
    stmt = (
        select(Recording)
        .join(Call, Call.id == Recording.call_id)
        .where(Recording.sha256.is_(None), Call.status != CallStatus.LIVE)
        .order_by(Recording.id)
    )
    if writer is not None:
        named = Recording.writer.is_(None) if writer == UNNAMED else Recording.writer == writer
        stmt = stmt.where(named).with_for_update(of=Recording)
    if call_id is not None:
        stmt = stmt.where(Recording.call_id == call_id)
    sealed: list[str] = []
    problems: list[str] = []
    for rec in session.scalars(stmt).all():
        label = _label(rec.call_id, rec.leg)
        path = locate_recording(media_dir, rec.call_id, Leg(rec.leg), rec.path)
        try:
            data = repair_recording(path)
            sha256 = file_sha256(path)
        except (RecordingError, OSError) as exc:
            problems.append(f"{label}: left open, cannot be sealed: {exc}")
            continue
        rec.bytes_written, rec.samples_written = data, data // BYTES_PER_SAMPLE
        rec.sha256, rec.closed_at = sha256, as_utc(at, "closed_at")
        sealed.append(label)
    return SealedAtStart(tuple(sealed), tuple(problems))


# --- the evidence export -----------------------------------------------------------------------
def sealing_entry(session: Session, rec: Recording) -> EvidenceEntry | None:
    """The newest evidence-log entry of the recording's row (the one that seals its sha256)."""
    stmt = (
        select(EvidenceEntry)
        .where(EvidenceEntry.kind == "recording", EvidenceEntry.ref == str(rec.id))
        .order_by(EvidenceEntry.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def read_sealed(session: Session, media_dir: Path, rec: Recording) -> tuple[bytes, dict[str, Any]]:
    """The bytes of a closed recording's file, exactly as sealed, and what seals them (for the
    export's manifest). Raises :class:`ConflictError` (the stored evidence no longer agrees with
    itself) when the file is missing or differs from its sealed sha256, or when the row is not the
    one the evidence log sealed; the message names the call and leg, not the server's path."""
    what = f"call {rec.call_id!r}: the {Leg(rec.leg).value} leg's recording"
    refused = "export refused; an administrator should run `agent-monitor db verify`"
    entry = sealing_entry(session, rec)
    columns = {c.key: getattr(rec, c.key) for c in Recording.__table__.columns}
    if entry is None or not digest_matches("recording", columns, entry.digest):
        raise ConflictError(f"{what} does not match its evidence-log seal: {refused}")
    path = locate_recording(media_dir, rec.call_id, rec.leg, rec.path)
    try:
        data = path.read_bytes()
    except OSError:
        raise ConflictError(f"{what} (sealed when it was closed) is missing: {refused}") from None
    if hashlib.sha256(data).hexdigest() != rec.sha256:
        raise ConflictError(
            f"{what} was modified after it was closed (it no longer matches its sealed sha256): {refused}"
        )
    seal = {
        "sealed_sha256": rec.sha256,
        "closed_at": rec.closed_at.isoformat() if rec.closed_at else None,
        "evidence_log": {"id": entry.id, "digest": entry.digest, "row_hash": entry.row_hash},
    }
    return data, seal
