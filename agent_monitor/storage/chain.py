"""Tamper-evident, append-only hash chains over evidence tables.

``alerts``, ``alert_events``, ``audit_log``, ``evidence_log`` and ``qa_review_seals`` are each
one chain. A row's ``id`` is its position (1, 2, 3, ... without gaps), ``prev_hash`` is the
previous row's ``row_hash`` (64 zeros for the first row) and ``row_hash`` is the sha256 of the
canonical JSON of the row's ``HASHED`` columns, ``prev_hash`` included. ``chain_heads`` keeps each
chain's last position and hash and is the lock that serialises appends (the lock is held until the
appending transaction ends, so commit soon).

:func:`verify_chain` recomputes a chain (:func:`agent_monitor.storage.integrity.verify_chains`
every chain and the alert states): an edited row no longer matches its hash, a deleted
row leaves a gap or a broken link, and a deleted tail disagrees with ``chain_heads``. Someone who
can write the database can still rewrite a whole chain consistently; exporting the heads
(:func:`chain_anchors`, ``agent-monitor db verify --write-anchors``) to somewhere they cannot write
and checking against them later (``--anchors``) detects that too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Protocol

from sqlalchemy import JSON, Double, Table, select, update
from sqlalchemy.orm import Session

from agent_monitor.errors import DatabaseUnavailableError
from agent_monitor.storage.base import Base
from agent_monitor.storage.tables import (
    Alert,
    AlertEvent,
    AuditEntry,
    ChainHead,
    EvidenceEntry,
    QaReviewSeal,
)

GENESIS_HASH = "0" * 64


class ChainedRow(Protocol):
    __tablename__: str
    HASHED: tuple[str, ...]
    id: int
    prev_hash: str
    row_hash: str


#: the chained tables, by chain name (= table name)
CHAINED: dict[str, type[Base]] = {
    Alert.__tablename__: Alert,
    AlertEvent.__tablename__: AlertEvent,
    AuditEntry.__tablename__: AuditEntry,
    EvidenceEntry.__tablename__: EvidenceEntry,
    QaReviewSeal.__tablename__: QaReviewSeal,
}


def _canonical_value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, Enum):
        return value.value
    return value


def canonical_json(table: str, fields: Mapping[str, Any]) -> str:
    """The canonical JSON text of ``fields`` of a row of ``table`` (keys sorted, no spaces, times
    as UTC ISO with microseconds, enums as their values): what :func:`row_digest` hashes."""
    doc = {"table": table, "fields": {k: _canonical_value(v) for k, v in fields.items()}}
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def text_digest(text: str) -> str:
    """The sha256 (hex) of ``text`` in UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def row_digest(table: str, fields: Mapping[str, Any]) -> str:
    """The sha256 (hex) of the canonical JSON of ``fields`` of a row of ``table``."""
    return text_digest(canonical_json(table, fields))


def _normalise(row: Any) -> None:
    """Coerce hashed values to what the database gives back, so the hash survives a round trip."""
    table: Table = row.__table__
    for name in row.HASHED:
        value = getattr(row, name)
        if value is None:
            continue
        col_type = table.c[name].type
        if isinstance(col_type, JSON):
            setattr(row, name, json.loads(json.dumps(value, allow_nan=False)))
        elif isinstance(col_type, Double):
            setattr(row, name, float(value))
        elif isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValueError(f"{name}: naive datetime given; use a tz-aware UTC datetime")
            setattr(row, name, value.astimezone(UTC))


def lock_chain(session: Session, name: str) -> tuple[int, str]:
    """Take the append lock of chain ``name`` for this transaction; return its (last id, head hash)."""
    result = session.execute(
        update(ChainHead).where(ChainHead.name == name).values(seq=ChainHead.seq),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise DatabaseUnavailableError(
            f"hash chain {name!r} is not initialised; run `agent-monitor db upgrade`"
        )
    head = session.execute(select(ChainHead.seq, ChainHead.head_hash).where(ChainHead.name == name)).one()
    return int(head.seq), str(head.head_hash)


def append(session: Session, row: Any) -> None:
    """Give ``row`` its chain position and hashes, insert it and move the chain head.

    Call :func:`lock_chain` first when a decision must be taken under the lock (state changes);
    taking it again in the same transaction is harmless.
    """
    append_all(session, [row])


def append_all(session: Session, rows: Sequence[Any], *, head: tuple[int, str] | None = None) -> None:
    """Append ``rows`` (all of one chained table) in order: one lock, one insert flush and one
    move of the chain head for all of them, the same positions and hashes as appending them one
    by one. ``head``: what :func:`lock_chain` returned for this chain earlier in this transaction
    (the lock is then not taken again)."""
    if not rows:
        return
    name = rows[0].__tablename__
    if any(r.__tablename__ != name for r in rows):
        raise ValueError("append_all: rows of more than one chain")
    seq, prev = head if head is not None else lock_chain(session, name)
    for row in rows:
        seq += 1
        row.id = seq
        row.prev_hash = prev
        _normalise(row)
        row.row_hash = prev = row_digest(name, {k: getattr(row, k) for k in row.HASHED})
    session.add_all(rows)
    session.flush()
    session.execute(
        update(ChainHead).where(ChainHead.name == name).values(seq=seq, head_hash=prev),
        execution_options={"synchronize_session": False},
    )


@dataclass(frozen=True, slots=True)
class Anchor:
    """A chain position and the hash of the row there, kept outside the database."""

    seq: int
    hash: str

    @classmethod
    def parse(cls, value: Any) -> Anchor:
        """An anchor from its JSON form ``{"seq": N, "hash": H}`` (N a whole number, 0 or more);
        ``ValueError`` (or ``KeyError``/``TypeError``) when it is not one."""
        seq, digest = value["seq"], value["hash"]
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0 or not isinstance(digest, str):
            raise ValueError(f"not a chain anchor: {str(value)[:80]}")
        return cls(seq, digest)


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The result of verifying one chain: ``problems`` is empty when it is intact."""

    name: str
    rows: int
    head_seq: int
    head_hash: str
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems


def chain_anchors(session: Session) -> dict[str, Anchor]:
    """The current head of every chain, to store outside the database."""
    heads = session.execute(select(ChainHead.name, ChainHead.seq, ChainHead.head_hash)).all()
    return {h.name: Anchor(int(h.seq), str(h.head_hash)) for h in heads}


def verify_chain(session: Session, name: str, anchor: Anchor | None = None, batch: int = 1000) -> ChainReport:
    """Recompute chain ``name`` row by row (streamed) and report every inconsistency."""
    model = CHAINED[name]
    table: Table = model.__table__  # type: ignore[assignment]
    hashed: Sequence[str] = model.HASHED  # type: ignore[attr-defined]
    problems: list[str] = []
    expected_id, prev, rows = 1, GENESIS_HASH, 0
    anchor_seen = False
    stmt = select(table).order_by(table.c.id).execution_options(yield_per=batch)
    for row in session.execute(stmt).mappings():
        rows += 1
        rid = int(row["id"])
        if rid != expected_id:
            problems.append(f"{name}: rows {expected_id}..{rid - 1} are missing (deleted)")
        if row["prev_hash"] != prev:
            problems.append(f"{name}: row {rid} does not link to the row before it")
        digest = row_digest(name, {k: row[k] for k in hashed})
        if digest != row["row_hash"]:
            problems.append(f"{name}: row {rid} was changed after it was written (hash mismatch)")
        if anchor is not None and rid == anchor.seq:
            anchor_seen = True
            if row["row_hash"] != anchor.hash:
                problems.append(f"{name}: row {rid} differs from the anchored hash (chain rewritten)")
        prev, expected_id = str(row["row_hash"]), rid + 1
    head = session.execute(select(ChainHead).where(ChainHead.name == name)).scalar_one_or_none()
    if head is None:
        problems.append(f"{name}: chain head is missing")
        head_seq, head_hash = 0, GENESIS_HASH
    else:
        head_seq, head_hash = head.seq, head.head_hash
        if head_seq != expected_id - 1 or head_hash != prev:
            problems.append(
                f"{name}: chain head is at row {head_seq} but the table ends at row {expected_id - 1}"
                " (rows deleted at the end, or the head edited)"
            )
    if anchor is not None and anchor.seq > 0 and not anchor_seen:
        problems.append(f"{name}: anchored row {anchor.seq} is gone (chain truncated)")
    return ChainReport(name, rows, head_seq, head_hash, tuple(problems))
