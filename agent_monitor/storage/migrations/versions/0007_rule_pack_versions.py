"""Rule packs administered in the UI: uploaded pack versions and the switches of installed files.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

Matches ``agent_monitor.storage.tables.rule_packs`` (the storage tests compare them).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rule_pack_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.String(length=100), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_pack_versions")),
        sa.UniqueConstraint("name", "version", name=op.f("uq_rule_pack_versions_name_version")),
    )
    op.create_index(op.f("ix_rule_pack_versions_name"), "rule_pack_versions", ["name"], unique=False)
    op.create_table(
        "rule_pack_files",
        sa.Column("file", sa.String(length=300), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("changed_by", sa.String(length=100), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("file", name=op.f("pk_rule_pack_files")),
    )


def downgrade() -> None:
    op.drop_table("rule_pack_files")
    op.drop_index(op.f("ix_rule_pack_versions_name"), table_name="rule_pack_versions")
    op.drop_table("rule_pack_versions")
