"""Each live call names the process that holds it: the table ``call_holders``.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07

On a floor a node whose presence expired has its live calls marked ``aborted`` by another node
(``agent_monitor.cluster.registry``). The phone switch may have reconnected such a call to a third
node in that very instant: its opening had set the row live again, but its registry entry still
named the dead node, so the call was marked aborted while it went on. A call's row in
``call_holders`` names the process that set it live (its node and instance id); the call is marked
aborted only while it still names the dead process (or names none: calls stored before this
revision). A node killed before its first beat wrote its newest calls into the registry left them
live for ever (no entry to reap): at its next start a floor node marks aborted the live calls its
node holds, and ``agent-monitor db seal-open --writer NODE`` those of a node gone for good. Not
evidence (who holds a call now, not what happened in it), and a table of its own, so that call
rows and their digests stay as they were.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "call_holders",
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("node", sa.String(length=200), nullable=False),
        sa.Column("instance", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_call_holders_call_id_calls")),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_call_holders")),
    )
    op.create_index(op.f("ix_call_holders_node"), "call_holders", ["node"], unique=False)


def downgrade() -> None:
    op.drop_table("call_holders")
