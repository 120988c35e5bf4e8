"""Full-text search over stored transcripts, one query shape per database.

Both index ``utterances.search_text``: the text with every Chinese (Han) character made a word
of its own (:func:`searchable`), because neither index splits Chinese, which is written without
spaces. SQLite: the FTS5 table ``utterances_fts`` (external content: ``utterances``, kept current
by triggers). PostgreSQL: the GIN index over ``to_tsvector('simple', search_text)``. Both are made
by migration 0008; neither is an ORM table, so :data:`FTS_NAMES` lists them for the schema checks.

A query is a few words: every word must occur in one utterance, the last as a prefix
("bankr" finds "bankruptcy"); anything that is not a letter or a digit separates words. A word
with Chinese characters is looked for as a phrase of those characters, so 还款 is found inside
我们今天谈还款计划 (and not in a sentence that has 还 and 款 apart).
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
#: CJK unified ideographs (with extension A and the compatibility block)
_HAN = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])")


def searchable(text: str) -> str:
    """``text`` as the index sees it: every Han character stands apart as a word of its own."""
    return _HAN.sub(r" \1 ", text)


def search_terms(query: str) -> list[str]:
    """The words of ``query`` (lower case); :class:`InvalidRecordError` when it has none."""
    terms = [w.lower() for w in _WORD.findall(query)][:MAX_TERMS]
    if not terms:
        raise InvalidRecordError(f"the text search {query!r} has no words to look for")
    return terms


def calls_saying(session: Session, query: str) -> Select[str]:
    """A sub-select of the ids of the calls whose transcript contains every word of ``query``."""
    phrases = [searchable(t).split() for t in search_terms(query)]
    if session.get_bind().dialect.name == "sqlite":
        quoted = [f'"{" ".join(p)}"' for p in phrases]
        match = " ".join(quoted) + "*"
        rowids = text("SELECT rowid FROM utterances_fts WHERE utterances_fts MATCH :fts").bindparams(
            fts=match.strip()
        )
        return select(Utterance.call_id).where(Utterance.id.in_(rowids.columns(literal_column("rowid"))))
    return select(Utterance.call_id).where(_pg_match(phrases))


def _pg_match(phrases: list[list[str]]) -> ColumnElement[bool]:
    last = phrases[-1]
    phrases = [*phrases[:-1], [*last[:-1], f"{last[-1]}:*"]]
    tsquery = " & ".join(f"({' <-> '.join(p)})" for p in phrases)
    vector = func.to_tsvector(literal_column(f"'{PG_CONFIG}'"), Utterance.search_text)
    return vector.bool_op("@@")(func.to_tsquery(literal_column(f"'{PG_CONFIG}'"), tsquery))
