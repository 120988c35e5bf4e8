"""Each recording names the node that writes it: ``recordings.writer``.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07

A server killed mid-call leaves its recordings open (no size or sha256 stored). A single server
seals them at its next start (``agent_monitor.storage.recording_seal.seal_left_open``): it holds the
data directory's lock, so nothing else writes them. On a floor of several nodes nothing said which
node wrote a file, so none could seal it. The column names the writer (``Settings.node_id``); a
node seals the open recordings it wrote once its previous process is gone. Rows stored before
this revision name none (NULL): ``agent-monitor db verify`` lists them as open until an
administrator runs ``agent-monitor db seal-open --unnamed``. A recording's evidence digest covers
the column only when it is set (``agent_monitor.storage.evidence``), so the seals stored before this
revision stay valid.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("recordings", sa.Column("writer", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.drop_column("writer")
