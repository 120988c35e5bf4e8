"""Transcript search finds Chinese words inside Chinese sentences (written without spaces), on
SQLite and PostgreSQL, for transcripts stored after migration 0008 and before it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import text

from agent_monitor.model.audio import Leg
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.transcript import Transcript, Word
from agent_monitor.storage import repo
from agent_monitor.storage.engine import Database
from agent_monitor.storage.migrate import alembic_config, upgrade_database
from agent_monitor.storage.repo import QueueQuery
from agent_monitor.storage.search import searchable

T0 = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
SENTENCES = {
    "zh-1": "我们今天谈一下还款计划好吗",
    "zh-2": "你再不还钱我就找你家人",
    "zh-3": "请问您方便说话吗，关于信用卡账单",
    "en-1": "please confirm the payment plan",
}


def _fill(db: Database) -> None:
    with db.session() as s:
        for i, (call_id, sentence) in enumerate(SENTENCES.items()):
            repo.ensure_agent(s, "agent-1", name="Agent", team="East")
            repo.start_call(s, call_id, "agent-1", source_protocol="file", started_at=T0)
            lang = "en" if call_id.startswith("en") else "zh"
            words = (Word(sentence, 1.0, 2.0, 0.9),)
            repo.save_utterance(s, call_id, Transcript(Leg.AGENT, i, 1.0, 2.0, sentence, True, words, lang))
            repo.enqueue_for_qa(s, call_id, WarningLevel.YELLOW, "test", at=T0)


def _ids(db: Database, query: str) -> list[str]:
    with db.session() as s:
        return sorted(r.call.id for r in repo.search_qa_queue(s, QueueQuery(text=query)).rows)


def test_searchable_sets_han_characters_apart() -> None:
    assert searchable("还款plan 计划") == " 还  款 plan  计  划 "
    assert searchable("pay now") == "pay now"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("还款", ["zh-1"]),  # a word inside a sentence
        ("还款计划", ["zh-1"]),
        ("家人", ["zh-2"]),
        ("信用卡 账单", ["zh-3"]),  # every word, any order
        ("账单 信用", ["zh-3"]),  # the last word is a prefix
        ("还", ["zh-1", "zh-2"]),  # one character
        ("款还", []),  # the characters of a word in that order, next to each other
        ("还款 家人", []),
        ("payment 计划", []),
        ("payment plan", ["en-1"]),
        ("pla", ["en-1"]),
    ],
)
def test_chinese_words_are_found_inside_sentences(db: Database, query: str, expected: list[str]) -> None:
    _fill(db)
    assert _ids(db, query) == expected


UTTERANCE_ROW = (
    "INSERT INTO utterances (call_id, leg, utterance_no, start_s, end_s, text, final, lang, updated_at)"
    " VALUES (:c, 'agent', 0, 1.0, 2.0, :t, :f, 'zh', CURRENT_TIMESTAMP)"
)

QUEUE_ROW = (
    "INSERT INTO qa_queue (call_id, level, reason, queued_at, state, updated_at)"
    " VALUES (:c, 'yellow', 'test', '2025-03-04 09:30:00', 'pending', CURRENT_TIMESTAMP)"
)


def test_migration_0008_indexes_the_transcripts_stored_before_it(empty_db_url: str) -> None:
    db = Database.open(empty_db_url)
    try:
        with db.engine.begin() as conn:  # alembic alone: the ORM already has the column of 0008
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0007")
        with db.session() as s:
            repo.ensure_agent(s, "agent-1", name="Agent", team="East")
            for call_id in ("zh-1", "zh-2"):
                repo.start_call(s, call_id, "agent-1", source_protocol="file", started_at=T0)
        with db.engine.begin() as conn:  # plain SQL too: the ORM's queue has the column of 0012
            for call_id in ("zh-1", "zh-2"):
                conn.execute(text(UTTERANCE_ROW), {"c": call_id, "t": SENTENCES[call_id], "f": True})
                conn.execute(text(QUEUE_ROW), {"c": call_id})
        upgrade_database(empty_db_url)
        assert _ids(db, "还款") == ["zh-1"]
        assert _ids(db, "还钱") == ["zh-2"]
        with db.session() as s:  # and the index follows the writes after it
            transcript = Transcript(Leg.AGENT, 0, 1.0, 2.0, "下周三前还款", True, (), "zh")
            repo.save_utterance(s, "zh-2", transcript)
        assert _ids(db, "还款") == ["zh-1", "zh-2"]
        assert _ids(db, "还钱") == []
    finally:
        db.dispose()
