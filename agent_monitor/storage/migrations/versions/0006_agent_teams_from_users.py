"""Agents get the team of their agent user: before this, a team given to an agent user (admin page,
CLI, API) stayed on the ``users`` row and the ``agents`` row the supervisors' scopes follow had
none. Data only; an agent row that already has a team keeps it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

USER_TEAM = (
    "SELECT u.team FROM users u WHERE u.agent_id = agents.id AND u.role = 'agent' "
    "AND u.team IS NOT NULL ORDER BY u.id LIMIT 1"
)


def upgrade() -> None:
    op.execute(f"UPDATE agents SET team = ({USER_TEAM}) WHERE team IS NULL AND EXISTS ({USER_TEAM})")


def downgrade() -> None:
    """Nothing to undo: the teams copied are the ones the admin gave."""
