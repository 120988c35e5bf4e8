"""Call-metadata rules at call start: calling hours and Regulation F frequency over stored calls."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from agent_monitor.errors import PipelineError
from agent_monitor.model.audio import Leg
from agent_monitor.model.events import RuleHitEvent
from agent_monitor.model.session import CallInfo
from agent_monitor.model.transcript import Transcript
from agent_monitor.pipeline import CallManager
from agent_monitor.storage import CallStatus, Database, repo
from tests.agent_monitor.pipeline.conftest import EventsOf, Subscribe

NOW = datetime(2025, 3, 10, 15, 0, tzinfo=UTC)  # 11:00 in New York: inside calling hours


def call_info(
    call_id: str, debtor: str, at: datetime = NOW, *, tz: str | None = "America/New_York", lang: str = "en"
) -> CallInfo:
    return CallInfo(
        call_id=call_id,
        agent_id="agent-7",
        debtor_id=debtor,
        debtor_tz=tz,
        lang=lang,
        sample_rate=8000,
        encoding="L16",
        source="ws-ingest",
        started_at=at,
    )


def store_call(
    database: Database,
    call_id: str,
    debtor: str,
    at: datetime,
    *,
    debtor_spoke: bool = False,
    voicemail: bool = False,
    tz: str = "America/New_York",
) -> None:
    """A stored call; ``debtor_spoke``: the agent spoke and the debtor answered (a conversation);
    ``voicemail``: a greeting on the debtor leg, then the agent's message."""
    with database.session() as s:
        repo.start_call(
            s,
            call_id,
            "agent-7",
            source_protocol="ws-ingest",
            started_at=at,
            debtor_id=debtor,
            debtor_tz=tz,
        )
        if debtor_spoke:
            asked = Transcript(
                leg=Leg.AGENT, utterance=0, start=1.0, end=2.0, text="is this John", final=True
            )
            repo.save_utterance(s, call_id, asked)
            said = Transcript(leg=Leg.DEBTOR, utterance=0, start=2.5, end=3.0, text="yes", final=True)
            repo.save_utterance(s, call_id, said)
        if voicemail:
            greeting = Transcript(
                Leg.DEBTOR, 0, 0.5, 4.0, "you have reached John please leave a message", True
            )
            repo.save_utterance(s, call_id, greeting)
            message = Transcript(Leg.AGENT, 0, 5.0, 9.0, "this is Mary please call me back", True)
            repo.save_utterance(s, call_id, message)
        repo.end_call(s, call_id, status=CallStatus.ENDED, ended_at=at + timedelta(minutes=3))


def rules_hit(events: Sequence[object]) -> list[str]:
    """The call-metadata rules among the hits (must-say rules also fire on these empty calls)."""
    return sorted(e.hit.rule for e in events if isinstance(e, RuleHitEvent) and e.hit.rule.startswith("US-"))


@pytest.mark.asyncio
async def test_eighth_call_in_seven_days_is_flagged(
    manager: CallManager,
    database: Database,
    subscribe: Subscribe,
    events_of: EventsOf,
) -> None:
    for i in range(7):  # seven earlier calls over the last five days, none reached the debtor
        store_call(database, f"freq-{i}", "d-freq", NOW - timedelta(days=5 - i % 5, hours=i))
    store_call(database, "freq-old", "d-freq", NOW - timedelta(days=30))
    sub = subscribe(lambda e: isinstance(e, RuleHitEvent))
    session = await manager.start_call(call_info("freq-8", "d-freq"))
    await session.stop("stop")
    assert rules_hit(events_of(sub)) == ["US-FREQ-1"]
    with database.session() as s:
        assert [h.rule_id for h in repo.list_rule_hits(s, "freq-8") if h.rule_id.startswith("US-")] == [
            "US-FREQ-1"
        ]


@pytest.mark.asyncio
async def test_seventh_call_and_other_debtors_calls_are_not_flagged(
    manager: CallManager,
    database: Database,
    subscribe: Subscribe,
    events_of: EventsOf,
) -> None:
    for i in range(6):
        store_call(database, f"ok-{i}", "d-ok", NOW - timedelta(days=1 + i % 5, hours=i))
    for i in range(5):
        store_call(database, f"other-{i}", "d-other", NOW - timedelta(days=1, hours=i))
    sub = subscribe(lambda e: isinstance(e, RuleHitEvent))
    session = await manager.start_call(call_info("ok-7", "d-ok"))
    await session.stop("stop")
    assert rules_hit(events_of(sub)) == []


@pytest.mark.asyncio
async def test_call_within_seven_days_of_a_conversation_is_flagged(
    manager: CallManager,
    database: Database,
    subscribe: Subscribe,
    events_of: EventsOf,
) -> None:
    store_call(database, "talk-1", "d-talk", NOW - timedelta(days=3), debtor_spoke=True)
    store_call(database, "talk-2", "d-quiet", NOW - timedelta(days=3))  # the debtor never spoke
    sub = subscribe(lambda e: isinstance(e, RuleHitEvent))
    flagged = await manager.start_call(call_info("talk-next", "d-talk"))
    await flagged.stop("stop")
    assert rules_hit(events_of(sub)) == ["US-FREQ-2"]
    quiet = await manager.start_call(call_info("quiet-next", "d-quiet"))
    await quiet.stop("stop")
    assert rules_hit(events_of(sub)) == []


def metadata_rules(events: Sequence[object]) -> list[str]:
    """The calling-hours and frequency rules among the hits, US and PRC."""
    return sorted(
        e.hit.rule
        for e in events
        if isinstance(e, RuleHitEvent) and e.hit.category in ("calling_hours", "call_frequency")
    )


@pytest.mark.asyncio
async def test_the_debtors_time_zone_not_the_language_decides_whose_rules_apply(
    manager: CallManager,
    database: Database,
    subscribe: Subscribe,
    events_of: EventsOf,
) -> None:
    """A Mandarin call to a debtor in Los Angeles is a US call: Regulation F counts it (the 8th
    call in 7 days is flagged) and the US window applies; an English call to a debtor in Shanghai
    is judged by the PRC window, not by Regulation F."""
    for i in range(7):
        store_call(database, f"zh-{i}", "d-zh", NOW - timedelta(days=5 - i % 5, hours=i))
    sub = subscribe(lambda e: isinstance(e, RuleHitEvent))
    zh = await manager.start_call(call_info("zh-8", "d-zh", tz="America/Los_Angeles", lang="zh"))
    await zh.stop("stop")
    assert metadata_rules(events_of(sub)) == ["US-FREQ-1"]
    for i in range(7):
        store_call(database, f"sh-{i}", "d-sh", NOW - timedelta(days=5 - i % 5, hours=i))
    late = datetime(2025, 3, 10, 14, 30, tzinfo=UTC)  # 22:30 in Shanghai, 10:30 in New York
    en = await manager.start_call(call_info("sh-8", "d-sh", late, tz="Asia/Shanghai"))
    await en.stop("stop")
    assert metadata_rules(events_of(sub)) == ["CN-TIME-1"]


@pytest.mark.asyncio
async def test_a_voicemail_is_a_call_placed_not_a_conversation(
    manager: CallManager,
    database: Database,
    subscribe: Subscribe,
    events_of: EventsOf,
) -> None:
    """A message left on the debtor's voicemail yesterday (the greeting is speech on the debtor
    leg) does not start the 7 days after a conversation: today's call is not flagged US-FREQ-2.
    The voicemail still counts as a call placed toward the 7 in 7."""
    store_call(database, "vm-1", "d-vm", NOW - timedelta(days=1), voicemail=True)
    sub = subscribe(lambda e: isinstance(e, RuleHitEvent))
    session = await manager.start_call(call_info("vm-next", "d-vm"))
    await session.stop("stop")
    assert rules_hit(events_of(sub)) == []
    for i in range(6):
        store_call(database, f"vm-{i + 2}", "d-vm", NOW - timedelta(days=2, hours=i), voicemail=True)
    eighth = await manager.start_call(call_info("vm-8", "d-vm", NOW + timedelta(hours=1)))
    await eighth.stop("stop")
    assert rules_hit(events_of(sub)) == ["US-FREQ-1"]


@pytest.mark.asyncio
async def test_a_call_without_a_time_zone_is_judged_in_the_debtors_stored_zone(
    manager: CallManager,
    database: Database,
    subscribe: Subscribe,
    events_of: EventsOf,
) -> None:
    """The dialer sent no time zone with this call, but the debtor's earlier calls were to Los
    Angeles: the call at 07:30 there is outside the calling hours, and it is the 8th in 7 days.
    A debtor nobody knows a zone of is still not judged."""
    for i in range(7):
        store_call(
            database, f"la-{i}", "d-la", NOW - timedelta(days=5 - i % 5, hours=i), tz="America/Los_Angeles"
        )
    early = datetime(2025, 3, 10, 14, 30, tzinfo=UTC)  # 07:30 in Los Angeles (PDT)
    sub = subscribe(lambda e: isinstance(e, RuleHitEvent))
    session = await manager.start_call(call_info("la-8", "d-la", early, tz=None))
    await session.stop("stop")
    events = events_of(sub)
    assert metadata_rules(events) == ["US-FREQ-1", "US-TIME-1"]
    (late,) = [e.hit for e in events if isinstance(e, RuleHitEvent) and e.hit.rule == "US-TIME-1"]
    assert "07:30 America/Los_Angeles" in late.reason
    unknown = await manager.start_call(call_info("nobody-1", "d-nobody", early, tz=None))
    await unknown.stop("stop")
    assert metadata_rules(events_of(sub)) == []


@pytest.mark.parametrize("tz", ["localtime", "Factory", "right/America/New_York", "posix/Asia/Shanghai"])
def test_a_time_zone_that_is_no_place_is_refused_for_every_call(tz: str) -> None:
    """`localtime` would judge the debtor's calling hours by the server's own zone; `Factory` names
    no place; `posix/` and `right/` are copies of zones (one place, one name)."""
    with pytest.raises(PipelineError, match="not the zone of a place"):
        call_info("c-tz", "d-tz", tz=tz)


@pytest.mark.asyncio
async def test_a_call_to_a_debtor_in_two_possible_zones_must_suit_both(
    manager: CallManager,
    database: Database,
    subscribe: Subscribe,
    events_of: EventsOf,
) -> None:
    """An address in New York and a phone number from Los Angeles: 10:30 in New York is 07:30 in
    Los Angeles, too early there (Reg F 1006.6(b)(1)(i): convenient in every possible zone). The
    zones given with the call are stored, so a later call sent without them is judged in both."""
    early = datetime(2025, 3, 10, 14, 30, tzinfo=UTC)
    sub = subscribe(lambda e: isinstance(e, RuleHitEvent))
    ny = await manager.start_call(call_info("two-0", "d-two0", early, tz="America/New_York"))
    await ny.stop("stop")
    assert metadata_rules(events_of(sub)) == []
    both = await manager.start_call(
        call_info("two-1", "d-two", early, tz="America/New_York,America/Los_Angeles")
    )
    await both.stop("stop")
    (hit,) = [e.hit for e in events_of(sub) if isinstance(e, RuleHitEvent) and e.hit.rule == "US-TIME-1"]
    assert "07:30 America/Los_Angeles" in hit.reason
    later = await manager.start_call(call_info("two-2", "d-two", early + timedelta(days=1), tz=None))
    await later.stop("stop")
    assert metadata_rules(events_of(sub)) == ["US-TIME-1"]
    with database.session() as s:
        assert repo.debtor_time_zones(s, "d-two", besides="two-9") == [
            "America/New_York",
            "America/Los_Angeles",
        ]


@pytest.mark.parametrize(
    ("tz", "problem"),
    [
        ("America/New_York,,America/Chicago", "an empty name"),
        ("America/New_York,America/New_York", "a zone named twice"),
        ("UTC,Etc/GMT+1,Etc/GMT+2,Etc/GMT+3,Etc/GMT+4", "at most 4, not 5"),
        ("America/New_York,localtime", "'localtime': not the zone of a place"),
        ("America/New_York,Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
    ],
)
def test_a_list_of_zones_is_refused_by_its_first_problem(tz: str, problem: str) -> None:
    with pytest.raises(PipelineError, match=problem):
        call_info("c-tzs", "d-tzs", tz=tz)


@pytest.mark.asyncio
async def test_a_prc_call_after_the_days_conversations_is_flagged_at_its_start(
    manager: CallManager,
    database: Database,
    subscribe: Subscribe,
    events_of: EventsOf,
) -> None:
    """CN-FREQ-1: three conversations with a debtor in Shanghai this morning (the default cap), so
    the next call that day is flagged and stored; another debtor reached twice is not."""
    ten = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    for i in range(3):
        at = ten - timedelta(hours=i + 0.5)
        store_call(database, f"cn-{i}", "d-cn", at, debtor_spoke=True, tz="Asia/Shanghai")
        if i < 2:
            store_call(database, f"cn-other-{i}", "d-cn-other", at, debtor_spoke=True, tz="Asia/Shanghai")
    sub = subscribe(lambda e: isinstance(e, RuleHitEvent))
    for call_id, debtor in (("cn-4", "d-cn"), ("cn-other-3", "d-cn-other")):
        session = await manager.start_call(call_info(call_id, debtor, ten, tz="Asia/Shanghai", lang="zh"))
        await session.stop("stop")
    assert metadata_rules(events_of(sub)) == ["CN-FREQ-1"]
    with database.session() as s:
        stored = [h for h in repo.list_rule_hits(s, "cn-4") if h.category == "call_frequency"]
        assert [(h.rule_id, h.reason) for h in stored] == [
            ("CN-FREQ-1", "2025-03-10 当天已与此人有效沟通 3 次（上限 3 次），本次为当天第 4 次拨打")
        ]
