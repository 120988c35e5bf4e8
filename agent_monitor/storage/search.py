"""Full-text search over stored transcripts, one query shape per database.

SQLite: the FTS5 table ``utterances_fts`` (external content: ``utterances``, kept current by
triggers). PostgreSQL: the GIN index over ``to_tsvector('simple', text)``. Both are made by
migration 0004; neither is an ORM table, so :data:`FTS_NAMES` lists them for the schema checks.

A query is a few words: every word must occur in one utterance, the last as a prefix
("bankr" finds "bankruptcy"); anything that is not a letter or a digit separates words.
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, Select, func, literal_column, select, text
from sqlalchemy.orm import Session

from agent_monitor.errors import InvalidRecordError
from agent_monitor.storage.tables import Utterance

#: database objects of the full-text index that the ORM does not describe
FTS_NAMES = frozenset(
    {
        "utterances_fts",
        "utterances_fts_data",
        "utterances_fts_idx",
        "utterances_fts_content",
        "utterances_fts_docsize",
        "utterances_fts_config",
        "ix_utterances_text_fts",
    }
)
#: the text search configuration of the PostgreSQL index (no stemming: works for any language)
PG_CONFIG = "simple"
MAX_TERMS = 8

_WORD = re.compile(r"\w+", re.UNICODE)


def search_terms(query: str) -> list[str]:
    """The words of ``query`` (lower case); :class:`InvalidRecordError` when it has none."""
    terms = [w.lower() for w in _WORD.findall(query)][:MAX_TERMS]
    if not terms:
        raise InvalidRecordError(f"the text search {query!r} has no words to look for")
    return terms


def calls_saying(session: Session, query: str) -> Select[str]:
    """A sub-select of the ids of the calls whose transcript contains every word of ``query``."""
    terms = search_terms(query)
    if session.get_bind().dialect.name == "sqlite":
        match = " ".join(f'"{t}"' for t in terms[:-1]) + f' "{terms[-1]}"*'
        rowids = text("SELECT rowid FROM utterances_fts WHERE utterances_fts MATCH :fts").bindparams(
            fts=match.strip()
        )
        return select(Utterance.call_id).where(Utterance.id.in_(rowids.columns(literal_column("rowid"))))
    return select(Utterance.call_id).where(_pg_match(terms))


def _pg_match(terms: list[str]) -> ColumnElement[bool]:
    tsquery = " & ".join([*terms[:-1], f"{terms[-1]}:*"])
    vector = func.to_tsvector(literal_column(f"'{PG_CONFIG}'"), Utterance.text)
    return vector.bool_op("@@")(func.to_tsquery(literal_column(f"'{PG_CONFIG}'"), tsquery))
