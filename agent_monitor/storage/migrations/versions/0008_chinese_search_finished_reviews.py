"""Transcript search finds Chinese words: the full-text index is rebuilt over
``utterances.search_text``, the text with every Han character standing apart as a word; and QA
reviews keep when they were finished (``qa_reviews.finished_at``: the reports count those).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

Neither SQLite FTS5's default tokenizer nor PostgreSQL's ``simple`` configuration splits Chinese
(no spaces between words), so a word inside a Chinese sentence was not found. The new column is
filled here for the transcripts already stored (by a frozen copy of
:func:`agent_monitor.storage.search.searchable`: no application imports, like 0001); then
SQLite's FTS5 table and triggers and PostgreSQL's GIN index are made again over it.

A review stored before this revision is taken as finished (at its last update) when its call's
QA queue entry is done and assigned to its reviewer (who finishes a review is assigned the entry
when nobody was); other old reviews stay drafts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_HAN = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])")
FINISHED_BEFORE = (
    "UPDATE qa_reviews SET finished_at = updated_at WHERE EXISTS (SELECT 1 FROM qa_queue q"
    " WHERE q.call_id = qa_reviews.call_id AND q.state = 'done' AND q.assigned_to = qa_reviews.reviewer)"
)
_TRIGGERS = ("utterances_fts_ai", "utterances_fts_ad", "utterances_fts_au")


def _sqlite_fts(column: str) -> tuple[str, ...]:
    delete = (
        f"INSERT INTO utterances_fts(utterances_fts, rowid, {column})"
        f" VALUES ('delete', old.id, old.{column});"
    )
    return (
        f"CREATE VIRTUAL TABLE utterances_fts USING fts5({column}, content='utterances', content_rowid='id')",
        "CREATE TRIGGER utterances_fts_ai AFTER INSERT ON utterances BEGIN"
        f" INSERT INTO utterances_fts(rowid, {column}) VALUES (new.id, new.{column}); END",
        f"CREATE TRIGGER utterances_fts_ad AFTER DELETE ON utterances BEGIN {delete} END",
        f"CREATE TRIGGER utterances_fts_au AFTER UPDATE OF {column} ON utterances BEGIN"
        f" {delete}"
        f" INSERT INTO utterances_fts(rowid, {column}) VALUES (new.id, new.{column}); END",
        # the transcripts already stored
        "INSERT INTO utterances_fts(utterances_fts) VALUES ('rebuild')",
    )


def searchable(text: str) -> str:
    """``text`` with every Han character standing apart as a word of its own."""
    return _HAN.sub(r" \1 ", text)


def _postgres_fts(column: str) -> tuple[str, ...]:
    return (f"CREATE INDEX ix_utterances_text_fts ON utterances USING gin (to_tsvector('simple', {column}))",)


def _drop_fts() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in _TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS utterances_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_utterances_text_fts")


def _create_fts(column: str) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _sqlite_fts(column) if sqlite else _postgres_fts(column):
        op.execute(statement)


def upgrade() -> None:
    _drop_fts()
    with op.batch_alter_table("utterances") as batch:
        batch.add_column(sa.Column("search_text", sa.Text(), server_default="", nullable=False))
    utterances = sa.table("utterances", sa.column("id", sa.Integer()), sa.column("text", sa.Text()))
    fill = sa.table("utterances", sa.column("id", sa.Integer()), sa.column("search_text", sa.Text()))
    bind = op.get_bind()
    for row_id, text in bind.execute(sa.select(utterances.c.id, utterances.c.text)).all():
        bind.execute(fill.update().where(fill.c.id == row_id).values(search_text=searchable(text)))
    _create_fts("search_text")
    with op.batch_alter_table("qa_reviews") as batch:
        batch.add_column(sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(FINISHED_BEFORE)


def downgrade() -> None:
    with op.batch_alter_table("qa_reviews") as batch:
        batch.drop_column("finished_at")
    _drop_fts()
    with op.batch_alter_table("utterances") as batch:
        batch.drop_column("search_text")
    _create_fts("text")
