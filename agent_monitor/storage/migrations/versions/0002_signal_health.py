"""Signal health of each leg: a row per health issue starting or clearing.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

Matches ``agent_monitor.storage.tables.health`` (the storage tests compare them).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ISSUES = ("silent", "low_level", "clipping", "noisy", "one_way", "encoding_mismatch", "no_model")


def upgrade() -> None:
    issues = ", ".join(f"'{i}'" for i in ISSUES)
    op.create_table(
        "signal_health",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("leg", sa.String(length=20), nullable=False),
        sa.Column("issue", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("t_s", sa.Double(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.CheckConstraint(f"issue IN ({issues})", name=op.f("ck_signal_health_issue")),
        sa.CheckConstraint("leg IN ('agent', 'debtor')", name=op.f("ck_signal_health_leg")),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_signal_health_call_id_calls")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signal_health")),
    )
    op.create_index("ix_signal_health_call_t", "signal_health", ["call_id", "t_s"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_signal_health_call_t", table_name="signal_health")
    op.drop_table("signal_health")
