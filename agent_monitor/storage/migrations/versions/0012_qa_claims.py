"""QA queue entries keep when they were claimed: ``qa_queue.claimed_at``.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05

"Next in queue" claims the call it hands out, in one conditional ``UPDATE``; a claim whose
reviewer saved no draft lapses after ``qa.claim_expiry_s`` and the call may be claimed by someone
else. An entry assigned before this revision is taken as claimed at its last update.

Downgrading drops the column (the assignments themselves stay).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLAIMED_BEFORE = "UPDATE qa_queue SET claimed_at = updated_at WHERE assigned_to IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("qa_queue") as batch:
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(CLAIMED_BEFORE)


def downgrade() -> None:
    with op.batch_alter_table("qa_queue") as batch:
        batch.drop_column("claimed_at")
