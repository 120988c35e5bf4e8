"""Signal health may say a leg is ``unclear``: heard, but recognised with low word confidence.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04

Only the check constraint on ``signal_health.issue`` changes (SQLite rebuilds the table in batch
mode, PostgreSQL swaps the constraint). Downgrading deletes the ``unclear`` rows first: the older
schema has no word for them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("silent", "low_level", "clipping", "noisy", "one_way", "encoding_mismatch", "no_model")
AFTER = (*BEFORE, "unclear")


def _issue_check(issues: tuple[str, ...]) -> None:
    listed = ", ".join(f"'{i}'" for i in issues)
    with op.batch_alter_table("signal_health") as batch:
        batch.drop_constraint(op.f("ck_signal_health_issue"), type_="check")
        batch.create_check_constraint(op.f("ck_signal_health_issue"), sa.text(f"issue IN ({listed})"))


def upgrade() -> None:
    _issue_check(AFTER)


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM signal_health WHERE issue = 'unclear'"))
    _issue_check(BEFORE)
