"""QA at volume: scorecard forms as data, reviews keep their form version and score, reviewer
assignment index, and full-text search over transcripts.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

Matches ``agent_monitor.storage.tables.qa_forms`` / ``.qa`` (the storage tests compare them). The
full-text index is not an ORM table (:mod:`agent_monitor.storage.search` names it): on SQLite an
FTS5 table over ``utterances.text`` kept current by triggers, on PostgreSQL a GIN index over
``to_tsvector('simple', text)``. Both are filled from the transcripts already stored.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_FTS = (
    "CREATE VIRTUAL TABLE utterances_fts USING fts5(text, content='utterances', content_rowid='id')",
    "CREATE TRIGGER utterances_fts_ai AFTER INSERT ON utterances BEGIN"
    " INSERT INTO utterances_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER utterances_fts_ad AFTER DELETE ON utterances BEGIN"
    " INSERT INTO utterances_fts(utterances_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER utterances_fts_au AFTER UPDATE OF text ON utterances BEGIN"
    " INSERT INTO utterances_fts(utterances_fts, rowid, text) VALUES ('delete', old.id, old.text);"
    " INSERT INTO utterances_fts(rowid, text) VALUES (new.id, new.text); END",
    # the transcripts stored before this revision
    "INSERT INTO utterances_fts(utterances_fts) VALUES ('rebuild')",
)
POSTGRES_FTS = ("CREATE INDEX ix_utterances_text_fts ON utterances USING gin (to_tsvector('simple', text))",)


def upgrade() -> None:
    op.create_table(
        "qa_forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_forms")),
        sa.UniqueConstraint("name", "version", name=op.f("uq_qa_forms_name_version")),
    )
    with op.batch_alter_table("qa_reviews") as batch:
        batch.add_column(sa.Column("comments", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("form_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("score", sa.Double(), nullable=True))
        batch.create_foreign_key(op.f("fk_qa_reviews_form_id_qa_forms"), "qa_forms", ["form_id"], ["id"])
        batch.create_index(op.f("ix_qa_reviews_form_id"), ["form_id"], unique=False)
    op.create_index(op.f("ix_qa_queue_assigned_to"), "qa_queue", ["assigned_to"], unique=False)
    op.create_index("ix_qa_queue_level_queued", "qa_queue", ["level", "queued_at"], unique=False)
    statements = SQLITE_FTS if op.get_bind().dialect.name == "sqlite" else POSTGRES_FTS
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("utterances_fts_ai", "utterances_fts_ad", "utterances_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS utterances_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_utterances_text_fts")
    op.drop_index("ix_qa_queue_level_queued", table_name="qa_queue")
    op.drop_index(op.f("ix_qa_queue_assigned_to"), table_name="qa_queue")
    with op.batch_alter_table("qa_reviews") as batch:
        batch.drop_index(op.f("ix_qa_reviews_form_id"))
        batch.drop_constraint(op.f("fk_qa_reviews_form_id_qa_forms"), type_="foreignkey")
        batch.drop_column("score")
        batch.drop_column("form_id")
        batch.drop_column("comments")
    op.drop_table("qa_forms")
