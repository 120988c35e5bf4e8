"""QA queue entries keep who assigned them by hand: ``qa_queue.assigned_by``.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05

A call given to a reviewer by another user ("Assigned to", a QA lead's decision) is held for them:
it no longer lapses after ``qa.claim_expiry_s`` as a claim taken by "next" does (revision 0012
made both lapse). ``assigned_by`` is the assigning user; ``NULL`` for a claim the reviewer took
themself, which lapses.

Entries assigned before this revision get ``NULL``: whether an assignment was a lead's or a
reviewer's own claim was not recorded, so they stay claims that lapse as before. A lead who wants
such a call held assigns it again.

Downgrading drops the column (the assignments themselves stay, and lapse again).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("qa_queue") as batch:
        batch.add_column(sa.Column("assigned_by", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("qa_queue") as batch:
        batch.drop_column("assigned_by")
