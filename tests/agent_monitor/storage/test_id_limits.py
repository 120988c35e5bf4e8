"""Issue #15 item 11: one limit for ids, from the data model to the columns, on SQLite and PostgreSQL.

The ingest protocols accepted 128-character ids that PostgreSQL's 64-character columns refused
with a server error (SQLite passed them). Now the longest id the protocol accepts is exactly what
the columns hold, and a longer one is a protocol error before anything is stored."""

from __future__ import annotations

import json

import pytest

from agent_monitor.errors import IngestProtocolError, PipelineError
from agent_monitor.ingest.ws_ingest import StartMessage, parse_text_message, to_call_info
from agent_monitor.model.identifiers import MAX_ID_CHARS, MAX_PHONE_CHARS
from agent_monitor.model.session import CallInfo
from agent_monitor.settings import Settings
from agent_monitor.storage import Database, repo
from agent_monitor.storage.tables.calls import Call
from agent_monitor.storage.tables.people import Agent

LONGEST = {
    "type": "start",
    "call_id": "通话" * (MAX_ID_CHARS // 2),  # 64 characters, 192 bytes of UTF-8
    "agent_id": "A" * MAX_ID_CHARS,
    "debtor_id": "D" * MAX_ID_CHARS,
    "debtor_phone": "+" + "1" * (MAX_PHONE_CHARS - 1),
    "debtor_tz": "America/Argentina/ComodRivadavia",
}


def test_columns_hold_exactly_the_model_limits() -> None:
    columns = Call.__table__.columns
    assert columns["id"].type.length == MAX_ID_CHARS  # type: ignore[attr-defined]
    assert columns["debtor_id"].type.length == MAX_ID_CHARS  # type: ignore[attr-defined]
    assert columns["debtor_tz"].type.length == MAX_ID_CHARS  # type: ignore[attr-defined]
    assert columns["debtor_phone"].type.length == MAX_PHONE_CHARS  # type: ignore[attr-defined]
    assert Agent.__table__.columns["id"].type.length == MAX_ID_CHARS  # type: ignore[attr-defined]


def test_the_longest_accepted_ids_are_stored(db: Database, base_settings: Settings) -> None:
    start = parse_text_message(json.dumps(LONGEST))
    assert isinstance(start, StartMessage)
    info = to_call_info(start, "ws-ingest", base_settings.live)
    with db.session() as s:
        repo.start_call(
            s,
            info.call_id,
            info.agent_id,
            source_protocol=info.source,
            started_at=info.started_at,
            debtor_id=info.debtor_id,
            debtor_phone=info.debtor_phone,
            debtor_tz=info.debtor_tz,
        )
    with db.session() as s:
        call = repo.get_call(s, info.call_id)
        assert (call.agent_id, call.debtor_phone) == (LONGEST["agent_id"], LONGEST["debtor_phone"])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("call_id", "C" * (MAX_ID_CHARS + 1)),
        ("agent_id", "A" * 128),
        ("debtor_id", "D" * (MAX_ID_CHARS + 1)),
        ("debtor_phone", "1" * (MAX_PHONE_CHARS + 1)),
    ],
)
def test_longer_ids_are_refused_at_the_edge(field: str, value: str) -> None:
    with pytest.raises(IngestProtocolError, match=rf"{field}.*at most"):
        parse_text_message(json.dumps({**LONGEST, field: value}))


@pytest.mark.parametrize("char", ["\u202e", "\u2066", "\x85", "\x9b", "\u200b", "\ufeff", "\x07"])
def test_bidi_c1_and_invisible_characters_are_refused(char: str) -> None:
    with pytest.raises(IngestProtocolError, match=r"call_id.*control, bidirectional or invisible"):
        parse_text_message(json.dumps({**LONGEST, "call_id": f"C-1{char}gpj.exe"}))


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2000-01-01T00:00:00Z"])
def test_started_at_far_from_now_is_refused(when: str) -> None:
    with pytest.raises(IngestProtocolError, match="started_at must lie between"):
        parse_text_message(json.dumps({**LONGEST, "started_at": when}))


def test_call_info_enforces_the_same_limits() -> None:
    with pytest.raises(PipelineError, match="call_id must be at most 64"):
        CallInfo(call_id="x" * 65, agent_id="A-1")
    with pytest.raises(PipelineError, match="debtor_phone must be at most 32"):
        CallInfo(call_id="c", agent_id="A-1", debtor_phone="1" * 33)
