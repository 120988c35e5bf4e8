"""Stress readings come under the evidence chain: ``evidence_log.kind`` admits ``stress``.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05

The check constraint on ``evidence_log.kind`` changes (SQLite rebuilds the table in batch mode,
PostgreSQL swaps the constraint), and the stress samples already stored are sealed: one ``stress``
entry per call whose range (ref ``FIRST-LAST``, sample ids) spans all its samples, with the digest
``agent_monitor.storage.stress_seal.stress_digest`` gives it. When the
evidence log is still empty (a database from before 0003) nothing is sealed here: the upgrade
seals every evidence row, stress included, once it reaches the head.

Downgrading deletes the ``stress`` entries (the older schema has no word for them) and renumbers
and rehashes the entries after them, so the evidence chain still verifies; anchors written before
the downgrade no longer match it.

Plain SQLAlchemy, no application imports: the digests are computed here the way the application
computes them (canonical JSON, sha256; the tests check they agree).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("utterance", "rule_hit", "call", "recording", "signal_health")
AFTER = (*BEFORE, "stress")
GENESIS_HASH = "0" * 64
STRESS_COLUMNS = ("id", "leg", "t_s", "score", "level", "baseline", "raw", "speech_s")
HASHED = ("id", "kind", "ref", "call_id", "digest", "at", "prev_hash")

LOG = sa.table(
    "evidence_log",
    *(sa.column(c) for c in ("id", "kind", "ref", "call_id", "digest", "prev_hash", "row_hash")),
    sa.column("at", sa.DateTime(timezone=True)),
)
HEADS = sa.table("chain_heads", sa.column("name"), sa.column("seq"), sa.column("head_hash"))
SAMPLES = sa.table("stress_samples", sa.column("call_id"), *(sa.column(c) for c in STRESS_COLUMNS))


def _digest(table: str, fields: dict[str, Any]) -> str:
    """``agent_monitor.storage.chain.row_digest``."""
    doc = {"table": table, "fields": {k: _canonical(v) for k, v in fields.items()}}
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return value


def _kind_check(kinds: tuple[str, ...]) -> None:
    listed = ", ".join(f"'{k}'" for k in kinds)
    with op.batch_alter_table("evidence_log") as batch:
        batch.drop_constraint(op.f("ck_evidence_log_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_evidence_log_kind"), sa.text(f"kind IN ({listed})"))


def _stored_at(at: datetime, conn: sa.Connection) -> datetime:
    return at.replace(tzinfo=None) if conn.dialect.name == "sqlite" else at


def _seal_stress(conn: sa.Connection) -> None:
    if conn.execute(sa.select(LOG.c.id).limit(1)).first() is None:
        return
    by_call: dict[str, list[list[Any]]] = {}
    for row in conn.execute(sa.select(SAMPLES).order_by(SAMPLES.c.call_id, SAMPLES.c.id)).mappings():
        by_call.setdefault(str(row["call_id"]), []).append([row[c] for c in STRESS_COLUMNS])  # id first
    if not by_call:
        return
    seq, prev = conn.execute(
        sa.select(HEADS.c.seq, HEADS.c.head_hash).where(HEADS.c.name == "evidence_log").with_for_update()
    ).one()
    at = datetime.now(UTC)
    for call_id, samples in sorted(by_call.items()):
        first, last = int(samples[0][0]), int(samples[-1][0])
        fields = {"call_id": call_id, "first": first, "last": last, "samples": samples}
        digest = _digest("evidence:stress", fields)
        seq += 1
        entry = {"id": seq, "kind": "stress", "ref": f"{first}-{last}", "call_id": call_id, "digest": digest}
        entry.update(at=at, prev_hash=prev)
        prev = _digest("evidence_log", {k: entry[k] for k in HASHED})
        conn.execute(LOG.insert().values({**entry, "at": _stored_at(at, conn), "row_hash": prev}))
    conn.execute(HEADS.update().where(HEADS.c.name == "evidence_log").values(seq=seq, head_hash=prev))


def _rechain(conn: sa.Connection) -> None:
    """Number the entries left 1, 2, 3, ... again and recompute their links and hashes."""
    seq, prev = 0, GENESIS_HASH
    rows = conn.execute(sa.select(LOG).order_by(LOG.c.id)).mappings().all()
    for row in rows:
        seq += 1
        entry = {k: row[k] for k in HASHED} | {"id": seq, "prev_hash": prev}
        if entry["id"] == row["id"] and prev == row["prev_hash"]:
            prev = row["row_hash"]
            continue
        prev = _digest("evidence_log", entry)
        values = {"id": seq, "prev_hash": entry["prev_hash"], "row_hash": prev}
        conn.execute(LOG.update().where(LOG.c.id == row["id"]).values(**values))
    conn.execute(HEADS.update().where(HEADS.c.name == "evidence_log").values(seq=seq, head_hash=prev))


def upgrade() -> None:
    _kind_check(AFTER)
    _seal_stress(op.get_bind())


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(LOG.delete().where(LOG.c.kind == "stress"))
    _rechain(conn)
    _kind_check(BEFORE)
