"""Finished QA reviews under a hash chain: ``qa_review_seals``.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05

A sixth chain (``chain_heads`` gets its row) holding, per sealed version of a review, the
review's canonical content and its sha256 (``agent_monitor.storage.review_seal``). The reviews
already finished are sealed here as they are found, one row each with event ``upgrade``: a
change made to them before this upgrade cannot be detected, and ``db verify`` lists them as
such. Drafts are not sealed.

Downgrading drops the table and its chain head; anchors written since then name a chain the
older schema does not know (it checks only its own chains).

Plain SQLAlchemy, no application imports: the content and the digests are computed here the way
the application computes them (canonical JSON, sha256; the tests check they agree).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHAIN = "qa_review_seals"
GENESIS_HASH = "0" * 64
HASHED = ("id", "review_id", "call_id", "reviewer", "event", "digest", "content", "at", "prev_hash")
REVIEW_COLUMNS = ("id", "call_id", "reviewer", "form_id", "scorecard", "comments", "score", "notes")
TIMES = ("created_at", "finished_at")

SEALS = sa.table(
    CHAIN,
    *(sa.column(c) for c in ("id", "review_id", "call_id", "reviewer", "event", "digest", "content")),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("prev_hash"),
    sa.column("row_hash"),
)
HEADS = sa.table("chain_heads", sa.column("name"), sa.column("seq"), sa.column("head_hash"))
REVIEWS = sa.table(
    "qa_reviews",
    *(sa.column(c) for c in ("id", "call_id", "reviewer", "form_id", "notes")),
    sa.column("scorecard", sa.JSON()),
    sa.column("comments", sa.JSON()),
    sa.column("score", sa.Float()),
    *(sa.column(c, sa.DateTime(timezone=True)) for c in TIMES),
)
VERDICTS = sa.table("qa_verdicts", *(sa.column(c) for c in ("review_id", "alert_id", "verdict", "note")))


def _canonical_json(table: str, fields: dict[str, Any]) -> str:
    """``agent_monitor.storage.chain.canonical_json``."""
    doc = {"table": table, "fields": {k: _canonical(v) for k, v in fields.items()}}
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return value


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _create_table() -> None:
    op.create_table(
        CHAIN,
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("reviewer", sa.String(length=100), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "event IN ('finished', 'reopened', 'upgrade')", name=op.f("ck_qa_review_seals_event")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_review_seals")),
        sa.UniqueConstraint("row_hash", name=op.f("uq_qa_review_seals_row_hash")),
    )
    op.create_index(op.f("ix_qa_review_seals_call_id"), CHAIN, ["call_id"], unique=False)
    op.create_index(op.f("ix_qa_review_seals_review_id"), CHAIN, ["review_id"], unique=False)


def _finished_reviews(conn: sa.Connection) -> list[tuple[dict[str, Any], str]]:
    """Each finished review (its columns) with its canonical content, by id."""
    verdicts: dict[int, list[list[Any]]] = {}
    ordered = sa.select(VERDICTS).order_by(VERDICTS.c.review_id, VERDICTS.c.alert_id)
    for v in conn.execute(ordered).mappings():
        verdict = [int(v["alert_id"]), str(v["verdict"]), v["note"]]
        verdicts.setdefault(int(v["review_id"]), []).append(verdict)
    stmt = sa.select(REVIEWS).where(REVIEWS.c.finished_at.is_not(None)).order_by(REVIEWS.c.id)
    out = []
    for row in conn.execute(stmt).mappings():
        fields = {c: row[c] for c in (*REVIEW_COLUMNS, *TIMES)}
        fields["verdicts"] = verdicts.get(int(row["id"]), [])
        out.append((dict(row), _canonical_json("qa_review", fields)))
    return out


def _seal_finished(conn: sa.Connection) -> None:
    """One ``upgrade`` seal per review finished before this revision, appended to the chain."""
    seq, prev = 0, GENESIS_HASH
    at = datetime.now(UTC)
    stored_at = at.replace(tzinfo=None) if conn.dialect.name == "sqlite" else at
    for review, content in _finished_reviews(conn):
        seq += 1
        entry = {"id": seq, "review_id": int(review["id"]), "call_id": review["call_id"]}
        entry |= {"reviewer": review["reviewer"], "event": "upgrade", "digest": _sha256(content)}
        entry |= {"content": content, "at": at, "prev_hash": prev}
        prev = _sha256(_canonical_json(CHAIN, {k: entry[k] for k in HASHED}))
        conn.execute(SEALS.insert().values({**entry, "at": stored_at, "row_hash": prev}))
    conn.execute(HEADS.insert().values(name=CHAIN, seq=seq, head_hash=prev))


def upgrade() -> None:
    _create_table()
    _seal_finished(op.get_bind())


def downgrade() -> None:
    op.execute(sa.text(f"DELETE FROM chain_heads WHERE name = '{CHAIN}'"))
    op.drop_index(op.f("ix_qa_review_seals_review_id"), table_name=CHAIN)
    op.drop_index(op.f("ix_qa_review_seals_call_id"), table_name=CHAIN)
    op.drop_table(CHAIN)
