"""Evidence log chain, idempotency keys of alerts and rule hits, persisted session revocations.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

- ``evidence_log``: a fourth hash chain holding the digest of every version of every
  transcript, rule hit, call, recording and signal-health row (``agent_monitor.storage.evidence``).
- ``alerts.key`` / ``rule_hits.key``: the uuid the live pipeline gives an alert or hit before it
  is stored, so a write replayed from the outbox journal finds its row instead of duplicating it.
- ``revoked_sessions``: sign-in sessions ended by logout, so a restart does not revive them.

Plain SQLAlchemy types only (no application imports), like 0001.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64
EVIDENCE_CHAIN = "evidence_log"


def upgrade() -> None:
    op.create_table(
        "evidence_log",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "kind IN ('utterance', 'rule_hit', 'call', 'recording', 'signal_health')",
            name=op.f("ck_evidence_log_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_log")),
        sa.UniqueConstraint("row_hash", name=op.f("uq_evidence_log_row_hash")),
    )
    op.create_index(op.f("ix_evidence_log_call_id"), "evidence_log", ["call_id"], unique=False)
    op.create_index("ix_evidence_log_kind_ref", "evidence_log", ["kind", "ref"], unique=False)
    chain_heads = sa.table(
        "chain_heads",
        sa.column("name", sa.String),
        sa.column("seq", sa.Integer),
        sa.column("head_hash", sa.String),
    )
    op.bulk_insert(chain_heads, [{"name": EVIDENCE_CHAIN, "seq": 0, "head_hash": GENESIS_HASH}])

    op.add_column("alerts", sa.Column("key", sa.String(length=36), nullable=True))
    op.create_index("ix_alerts_key", "alerts", ["key"], unique=True)
    op.add_column("rule_hits", sa.Column("key", sa.String(length=36), nullable=True))
    op.create_index("ix_rule_hits_key", "rule_hits", ["key"], unique=True)

    op.create_table(
        "revoked_sessions",
        sa.Column("sid", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sid", name=op.f("pk_revoked_sessions")),
    )
    op.create_index(op.f("ix_revoked_sessions_expires_at"), "revoked_sessions", ["expires_at"], unique=False)
    op.create_index(op.f("ix_revoked_sessions_username"), "revoked_sessions", ["username"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_revoked_sessions_username"), table_name="revoked_sessions")
    op.drop_index(op.f("ix_revoked_sessions_expires_at"), table_name="revoked_sessions")
    op.drop_table("revoked_sessions")
    op.drop_index("ix_rule_hits_key", table_name="rule_hits")
    with op.batch_alter_table("rule_hits") as batch:
        batch.drop_column("key")
    op.drop_index("ix_alerts_key", table_name="alerts")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("key")
    op.execute(sa.text("DELETE FROM chain_heads WHERE name = 'evidence_log'"))
    op.drop_index("ix_evidence_log_kind_ref", table_name="evidence_log")
    op.drop_index(op.f("ix_evidence_log_call_id"), table_name="evidence_log")
    op.drop_table("evidence_log")
