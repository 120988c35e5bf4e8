"""Report indexes: calls by start time *and* agent.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

The reports (``agent_monitor.storage.reports``) count a period's calls per agent: an index on
``(started_at, agent_id)`` answers that from the index alone (SQLite, 100,000 synthetic calls:
90 days 1.5 s -> 0.25 s). It replaces the index on ``started_at`` alone, which it covers.
Matches ``agent_monitor.storage.tables.calls`` (the storage tests compare them).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_calls_started_at_agent_id", "calls", ["started_at", "agent_id"], unique=False)
    op.drop_index("ix_calls_started_at", table_name="calls")


def downgrade() -> None:
    op.create_index("ix_calls_started_at", "calls", ["started_at"], unique=False)
    op.drop_index("ix_calls_started_at_agent_id", table_name="calls")
