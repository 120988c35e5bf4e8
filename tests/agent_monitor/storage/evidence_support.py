"""What the evidence tests ask of a database: the problems ``db verify`` reports, and SQL run behind
the application's back (an edit, a deletion, an insertion the chains must notice)."""

from __future__ import annotations

from sqlalchemy import text

from agent_monitor.storage.engine import Database
from agent_monitor.storage.evidence import verify_all


def chain_problems(db: Database) -> list[str]:
    """Every problem the verification of all chains and seals reports (none: an empty list)."""
    with db.session() as s:
        return [p for r in verify_all(s) for p in r.problems]


def behind_the_app(db: Database, statement: str) -> None:
    """Run ``statement`` in a transaction of its own, past the application's evidence hooks."""
    with db.engine.begin() as conn:
        conn.execute(text(statement))
