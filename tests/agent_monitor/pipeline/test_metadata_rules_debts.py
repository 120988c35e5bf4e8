"""Regulation F frequency at call start, per debt and without the calls the debtor consented to
(12 CFR 1006.14(b)(2), (b)(3)): a live call's ``debt_id`` and ``consented`` are stored with it and
the later calls' history counts each stored call under its own debt and consent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from agent_monitor.model.audio import Leg
from agent_monitor.model.events import CallStarted, RuleHitEvent
from agent_monitor.model.session import CallInfo
from agent_monitor.model.transcript import Transcript
from agent_monitor.pipeline import CallManager
from agent_monitor.storage import CallStatus, Database, repo
from agent_monitor.storage.evidence import verify_all
from agent_monitor.storage.tables import RuleHitRow
from tests.agent_monitor.pipeline.conftest import EventsOf, Subscribe

NOW = datetime(2025, 3, 10, 15, 0, tzinfo=UTC)  # 11:00 in New York: inside calling hours
DEBTOR = "d-debts"


def live_call(
    call_id: str,
    *,
    debt_id: str | None = None,
    consented: bool = False,
    debtor_id: str | None = DEBTOR,
    debtor_tz: str | None = "America/New_York",
    phone: str | None = None,
) -> CallInfo:
    return CallInfo(
        call_id=call_id,
        agent_id="agent-7",
        debtor_id=debtor_id,
        debtor_phone=phone,
        debtor_tz=debtor_tz,
        started_at=NOW,
        debt_id=debt_id,
        consented=consented,
    )


def store_call(
    database: Database,
    call_id: str,
    days_ago: float,
    *,
    debt_id: str | None = None,
    consented: bool = False,
    conversation: bool = False,
    debtor_id: str | None = DEBTOR,
    phone: str | None = None,
) -> None:
    """A stored earlier call; ``conversation``: the agent spoke and the debtor answered."""
    at = NOW - timedelta(days=days_ago)
    with database.session() as s:
        repo.start_call(
            s,
            call_id,
            "agent-7",
            source_protocol="ws-ingest",
            started_at=at,
            debtor_id=debtor_id,
            debtor_phone=phone,
            debtor_tz="America/New_York",
            debt_id=debt_id,
            consented=consented,
        )
        if conversation:
            repo.save_utterance(s, call_id, Transcript(Leg.AGENT, 0, 1.0, 2.0, "is this John", True))
            repo.save_utterance(s, call_id, Transcript(Leg.DEBTOR, 0, 2.5, 3.0, "yes", True))
        repo.end_call(s, call_id, status=CallStatus.ENDED, ended_at=at + timedelta(minutes=3))


def frequency_rules(events: Sequence[object]) -> list[str]:
    return sorted(
        e.hit.rule for e in events if isinstance(e, RuleHitEvent) and e.hit.rule.startswith("US-FREQ")
    )


async def flagged(
    manager: CallManager, info: CallInfo, subscribe: Subscribe, events_of: EventsOf
) -> list[str]:
    """The frequency rules the live call ``info`` is flagged by at its start."""
    sub = subscribe(lambda e: isinstance(e, RuleHitEvent) and e.call_id == info.call_id)
    session = await manager.start_call(info)
    await session.stop("stop")
    return frequency_rules(events_of(sub))


@pytest.mark.asyncio
async def test_a_consented_callback_after_a_conversation_is_not_flagged(
    manager: CallManager, database: Database, subscribe: Subscribe, events_of: EventsOf
) -> None:
    store_call(database, "talk", 2, conversation=True)
    callback = live_call("callback", consented=True)
    assert await flagged(manager, callback, subscribe, events_of) == []
    # the same call without the consent is the violation it always was
    assert await flagged(manager, live_call("unasked"), subscribe, events_of) == ["US-FREQ-2"]
    with database.session() as s:  # the consent was stored with the call, and sealed
        history = repo.debtor_calls_since(s, DEBTOR, NOW - timedelta(hours=1), besides="talk")
        assert [(r.call.id, r.debt_id, r.consented) for r in history] == [
            ("callback", DEBTOR, True),
            ("unasked", DEBTOR, False),
        ]
        assert [p for r in verify_all(s) for p in r.problems] == []


@pytest.mark.asyncio
async def test_calls_about_another_debt_of_the_debtor_are_counted_apart(
    manager: CallManager, database: Database, subscribe: Subscribe, events_of: EventsOf
) -> None:
    for i in range(7):  # seven calls about loan L-1 in the last five days
        store_call(database, f"l1-{i}", 1 + i % 5 + i / 100, debt_id="L-1")
    store_call(database, "l2-talk", 3, debt_id="L-2", conversation=True)
    assert await flagged(manager, live_call("about-l3", debt_id="L-3"), subscribe, events_of) == []
    assert await flagged(manager, live_call("about-l1", debt_id="L-1"), subscribe, events_of) == ["US-FREQ-1"]
    assert await flagged(manager, live_call("about-l2", debt_id="L-2"), subscribe, events_of) == ["US-FREQ-2"]


@pytest.mark.asyncio
async def test_a_call_without_a_debt_id_counts_with_the_debtors_calls_without_one(
    manager: CallManager, database: Database, subscribe: Subscribe, events_of: EventsOf
) -> None:
    for i in range(7):  # about named debts: not the debt the debtor id stands for
        store_call(database, f"named-{i}", 1 + i % 5 + i / 100, debt_id=f"L-{i % 2}")
    assert await flagged(manager, live_call("plain-1"), subscribe, events_of) == []
    for i in range(6):  # stored without a debt id, as before: the debtor id's debt
        store_call(database, f"plain-old-{i}", 1 + i % 5 + i / 100)
    # plain-1 (live above, now stored) and these six are seven: the eighth is flagged, as before
    assert await flagged(manager, live_call("plain-2"), subscribe, events_of) == ["US-FREQ-1"]


@pytest.mark.asyncio
async def test_a_call_naming_the_debt_but_not_the_debtor_counts_the_calls_about_that_debt(
    manager: CallManager, database: Database, subscribe: Subscribe, events_of: EventsOf
) -> None:
    """A dialer may send the debt without a debtor id: the calls about that debt are its history
    (with or without a debtor id), and their time zones serve when the call gives none."""
    for i in range(7):  # seven calls about L-7 in five days, three of them without a debtor id
        debtor = None if i < 3 else DEBTOR
        store_call(database, f"l7-{i}", 1 + i % 5 + i / 100, debt_id="L-7", debtor_id=debtor)
    store_call(database, "l8-talk", 2, debt_id="L-8", debtor_id=None, conversation=True)
    debt_only = live_call("l7-debt-only", debt_id="L-7", debtor_id=None)
    assert await flagged(manager, debt_only, subscribe, events_of) == ["US-FREQ-1"]
    no_zone = live_call("l8-no-zone", debt_id="L-8", debtor_id=None, debtor_tz=None)
    assert await flagged(manager, no_zone, subscribe, events_of) == ["US-FREQ-2"]
    other = live_call("l9-debt-only", debt_id="L-9", debtor_id=None)
    assert await flagged(manager, other, subscribe, events_of) == []
    with database.session() as s:
        assert repo.debtor_time_zones(s, None, besides="", debt_id="L-8") == ["America/New_York"]
        with pytest.raises(ValueError, match="a debtor id, a debt id or a phone number"):
            repo.debtor_calls_since(s, None, NOW, besides="")


@pytest.mark.asyncio
async def test_a_call_giving_only_the_phone_number_counts_the_calls_to_that_number(
    manager: CallManager, database: Database, subscribe: Subscribe, events_of: EventsOf
) -> None:
    """A dialer may pass only the number it dialled: the stored calls to that number (written in
    any form, international or national, with or without a debtor or debt id) are its history, and
    their time zones serve when it gives none; another number's calls, or a withheld number's, are
    not. (Since revision 0016 a national "555-123-4567" of a US call is "+1 555 123 4567".)"""
    forms = ("+1 (555) 123-4567", "0015551234567", "555-123-4567", "1.555.123.4567")
    for i in range(7):  # seven calls to one number in five days, under other ids or none
        debtor, debt = (None, None) if i < 3 else (f"d-{i}", f"L-{i}")
        store_call(
            database, f"n-{i}", 1 + i % 5 + i / 100, debtor_id=debtor, debt_id=debt, phone=forms[i % 4]
        )
    store_call(database, "other-talk", 2, debtor_id=None, phone="+1 555 765 4321", conversation=True)
    for i in range(7):
        store_call(database, f"withheld-{i}", 1 + i % 5 + i / 100, debtor_id=None, phone="anonymous")
    eighth = live_call("n-live", debtor_id=None, phone="(555) 123 4567")
    assert await flagged(manager, eighth, subscribe, events_of) == ["US-FREQ-1"]
    no_zone = live_call("other-no-zone", debtor_id=None, debtor_tz=None, phone="555 765 4321")
    assert await flagged(manager, no_zone, subscribe, events_of) == ["US-FREQ-2"]
    new_number = live_call("new-number", debtor_id=None, phone="+1 555 000 1111")
    assert await flagged(manager, new_number, subscribe, events_of) == []
    withheld = live_call("withheld-live", debtor_id=None, phone="anonymous")
    assert await flagged(manager, withheld, subscribe, events_of) == []
    with database.session() as s:
        assert repo.debtor_time_zones(s, None, besides="", phone_key="15557654321") == ["America/New_York"]
        with pytest.raises(ValueError, match="a debtor id, a debt id or a phone number"):
            repo.debtor_calls_since(s, None, NOW, besides="", phone_key=None)
        calls = ["n-live", "other-no-zone"]
        reasons = sorted(s.scalars(select(RuleHitRow.reason).where(RuleHitRow.call_id.in_(calls))))
        assert [r.split(" (")[0] for r in reasons] == [
            "Placed on 2025-03-10, after a telephone conversation with this number on 2025-03-08",
            "This is call 8 to this number within 7 consecutive days; more than 7 is presumed harassment",
        ]
        assert [p for r in verify_all(s) for p in r.problems] == []


@pytest.mark.asyncio
async def test_stored_consented_calls_are_not_counted(
    manager: CallManager, database: Database, subscribe: Subscribe, events_of: EventsOf
) -> None:
    for i in range(7):  # seven calls in five days, two of them callbacks the debtor asked for
        store_call(database, f"c-{i}", 1 + i % 5 + i / 100, debt_id="L-1", consented=i < 2)
    assert await flagged(manager, live_call("eighth", debt_id="L-1"), subscribe, events_of) == []
    # and a conversation in a consented call still starts the seven days after it
    store_call(database, "callback-talk", 1, debt_id="L-9", consented=True, conversation=True)
    assert await flagged(manager, live_call("after", debt_id="L-9"), subscribe, events_of) == ["US-FREQ-2"]


@pytest.mark.asyncio
async def test_a_resumed_call_keeps_the_debt_and_consent_it_started_with(
    manager: CallManager, database: Database, subscribe: Subscribe, events_of: EventsOf
) -> None:
    first = await manager.start_call(live_call("resumed", debt_id="L-1"))
    await first.stop("disconnect")
    # the client reconnects (or the server restarted) and now says another debt, with consent
    sub = subscribe(lambda e: isinstance(e, CallStarted) and e.call_id == "resumed")
    again = await manager.start_call(live_call("resumed", debt_id="L-2", consented=True))
    try:
        assert again.resumed
        # what the live views show is what was stored, sealed and judged at the call's start
        assert (again.info.debt_id, again.info.consented) == ("L-1", False)
        [started] = events_of(sub)
        assert (started.info.debt_id, started.info.consented) == ("L-1", False)
    finally:
        await again.stop("stop")
    with database.session() as s:
        assert repo.call_debt(s, "resumed") == ("L-1", False)
        assert [p for r in verify_all(s) for p in r.problems] == []
