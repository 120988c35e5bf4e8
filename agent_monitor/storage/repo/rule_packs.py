"""Rule packs administered in the UI: uploaded versions (never overwritten) and the switches of
installed pack files. Every change is written to the audit log in the same transaction."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent_monitor.errors import InvalidRecordError, NotFoundError
from agent_monitor.model.identifiers import identifier_problem
from agent_monitor.model.stages import PackSelection, UploadedPack
from agent_monitor.storage.repo.audit import record_audit
from agent_monitor.storage.tables import RulePackFile, RulePackVersion
from agent_monitor.storage.tables.rule_packs import MAX_PACK_NAME_CHARS
from agent_monitor.storage.types import utcnow

OBJECT_TYPE = "rule_pack"


def _versions(session: Session, name: str) -> list[RulePackVersion]:
    stmt = select(RulePackVersion).where(RulePackVersion.name == name).order_by(RulePackVersion.version)
    return list(session.scalars(stmt))


def add_pack_version(session: Session, name: str, text: str, actor: str) -> RulePackVersion:
    """Store ``text`` as the next version of pack ``name`` (1 for a new name) and make it the
    pack's enabled version (the earlier versions stay, switched off). The name must be an
    identifier of at most :data:`MAX_PACK_NAME_CHARS` (:class:`InvalidRecordError`): the pack is
    switched by it (a longer one was a 500 on PostgreSQL; ``..`` cannot be addressed from a browser;
    one with an invisible or bidirectional character looks like another). Packs stored before this
    rule still load, and can be switched off."""
    problem = identifier_problem(name, MAX_PACK_NAME_CHARS)
    if problem is not None:
        raise InvalidRecordError(f"pack name {name[:MAX_PACK_NAME_CHARS]!r} {problem}")
    versions = _versions(session, name)
    for row in versions:
        row.enabled = False
    row = RulePackVersion(
        name=name,
        version=versions[-1].version + 1 if versions else 1,
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        uploaded_by=actor,
        uploaded_at=utcnow(),
        enabled=True,
    )
    session.add(row)
    session.flush()
    detail = {"version": row.version, "sha256": row.sha256}
    record_audit(session, actor, "rule_pack_uploaded", object_type=OBJECT_TYPE, object_id=name, detail=detail)
    return row


def set_pack_enabled(
    session: Session, name: str, enabled: bool, actor: str, version: int | None = None
) -> RulePackVersion | None:
    """Enable version ``version`` of uploaded pack ``name`` (default: its latest; an earlier one
    is a roll back) or disable the pack (every version). Returns the enabled version, if any."""
    versions = _versions(session, name)
    if not versions:
        raise NotFoundError(f"no uploaded rule pack {name!r}")
    chosen = None
    if enabled:
        wanted = versions[-1].version if version is None else version
        chosen = next((v for v in versions if v.version == wanted), None)
        if chosen is None:
            raise NotFoundError(f"rule pack {name!r} has no version {wanted}")
    for row in versions:
        row.enabled = row is chosen
    if chosen is None:
        action, detail = "rule_pack_disabled", {}
    else:
        rolled_back = chosen is not versions[-1]
        action = "rule_pack_rolled_back" if rolled_back else "rule_pack_enabled"
        detail = {"version": chosen.version}
    record_audit(session, actor, action, object_type=OBJECT_TYPE, object_id=name, detail=detail)
    session.flush()
    return chosen


def set_file_enabled(session: Session, file: str, enabled: bool, actor: str) -> RulePackFile:
    """Switch the installed pack file ``file`` (as :attr:`PackCheck.file` names it) on or off."""
    row = session.get(RulePackFile, file)
    if row is None:
        row = RulePackFile(file=file)
        session.add(row)
    row.enabled, row.changed_by, row.changed_at = enabled, actor, utcnow()
    action = "rule_pack_enabled" if enabled else "rule_pack_disabled"
    record_audit(session, actor, action, object_type=OBJECT_TYPE, object_id=file, detail={"file": True})
    session.flush()
    return row


def list_pack_versions(session: Session) -> list[RulePackVersion]:
    """Every stored version of every uploaded pack, by name then version."""
    return list(
        session.scalars(select(RulePackVersion).order_by(RulePackVersion.name, RulePackVersion.version))
    )


def file_switches(session: Session) -> dict[str, RulePackFile]:
    """The installed files an admin has switched (on or off), by file."""
    return {row.file: row for row in session.scalars(select(RulePackFile))}


def pack_selection(session: Session) -> PackSelection:
    """What the live rule set is built from: enabled uploaded versions, disabled files."""
    uploaded = session.scalars(
        select(RulePackVersion).where(RulePackVersion.enabled.is_(True)).order_by(RulePackVersion.name)
    )
    return PackSelection(
        uploaded=tuple(UploadedPack(r.name, r.version, r.text) for r in uploaded),
        disabled_files=frozenset(f for f, row in file_switches(session).items() if not row.enabled),
    )
