"""A call keeps the debt it was about and the debtor's consent: table ``call_debts``.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06

Regulation F (12 CFR 1006.14(b)) counts calls per debt and leaves out calls made with the
consumer's direct prior consent. A live call's start message may now carry ``debt_id`` and
``consented``; they are stored in a table of their own keyed by call id (one row per call that
came with either), sealed in the evidence chain under a new kind, ``call_debt``: the
``evidence_log.kind`` check constraint changes (SQLite rebuilds the table in batch mode,
PostgreSQL swaps the constraint). Columns of ``calls`` would have changed the digest of every call
row sealed before (or made it depend on whether they were set); here the calls, their digests and
the evidence chain stay as they were, and a call stored before this revision has no row: its debt
is the one its debtor id stands for, without consent, as the frequency rule has always taken it.

Downgrading deletes the ``call_debt`` entries (the older schema has no word for them), renumbers
and rehashes the entries after them so the evidence chain still verifies (anchors written before
the downgrade no longer match it), restores the constraint and drops the table: the debts and
consents stored are lost.

Plain SQLAlchemy, no application imports: the chain's hashes are computed here the way the
application computes them (canonical JSON, sha256; the tests check they agree).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("utterance", "rule_hit", "call", "recording", "signal_health", "stress")
AFTER = (*BEFORE, "call_debt")
GENESIS_HASH = "0" * 64
HASHED = ("id", "kind", "ref", "call_id", "digest", "at", "prev_hash")

LOG = sa.table(
    "evidence_log",
    *(sa.column(c) for c in ("id", "kind", "ref", "call_id", "digest", "prev_hash", "row_hash")),
    sa.column("at", sa.DateTime(timezone=True)),
)
HEADS = sa.table("chain_heads", sa.column("name"), sa.column("seq"), sa.column("head_hash"))


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
    op.create_table(
        "call_debts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("debt_id", sa.String(length=64), nullable=True),
        sa.Column("consented", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_call_debts_call_id_calls")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_debts")),
        sa.UniqueConstraint("call_id", name=op.f("uq_call_debts_call_id")),
    )
    _kind_check(AFTER)


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(LOG.delete().where(LOG.c.kind == "call_debt"))
    _rechain(conn)
    _kind_check(BEFORE)
    op.drop_table("call_debts")
