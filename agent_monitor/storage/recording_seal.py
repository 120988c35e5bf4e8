"""Recording files checked against the sha256 sealed when they were closed.

:meth:`~agent_monitor.storage.recordings.RecordingWriter.close` finalises the WAV header and takes
the sha256 of the **whole file** as it is on disk (header and audio); the ``recordings`` row stores
it (``close_recording``) and the evidence log seals that row. A file edited afterwards (audio
zeroed, cut, replaced) no longer hashes to it. :func:`verify_recording_files` (``db verify``)
rehashes every closed recording, streamed; :func:`read_sealed` reads one for the evidence export
and refuses a file that does not match. A recording that is still open (``sha256`` NULL: a live
call, or one whose writer never closed it) has nothing sealed yet and is skipped.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent_monitor.errors import ConflictError
from agent_monitor.model.audio import Leg
from agent_monitor.storage.chain import ChainReport
from agent_monitor.storage.evidence import content_digest
from agent_monitor.storage.recordings import file_sha256, locate_recording
from agent_monitor.storage.tables import EvidenceEntry, Recording

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
    stmt = select(table.c.call_id, table.c.leg, table.c.path, table.c.sha256).order_by(table.c.id)
    rows = session.execute(stmt).all()
    problems: list[str] = []
    open_: list[str] = []
    checked = 0
    for call_id, leg, path, sealed in rows:
        if sealed is None:
            open_.append(f"call {call_id!r} {Leg(leg).value} leg")
            continue
        checked += 1
        if (problem := file_problem(media_dir, call_id, Leg(leg), path, sealed)) is not None:
            problems.append(problem)
    return FilesReport(ChainReport(REPORT_NAME, checked, 0, "", tuple(problems)), tuple(open_))


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
    if entry is None or entry.digest != content_digest("recording", columns):
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
