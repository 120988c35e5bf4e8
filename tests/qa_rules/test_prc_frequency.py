"""CN-FREQ-1: PRC calls placed beyond a daily cap (institution policy: 3 conversations with the
person a day by default, calls placed a day when configured), per person, in the local day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from agent_monitor.model.calls import CallRecord
from agent_monitor.settings import RulesSettings
from qa_rules.metadata import call_frequency, call_frequency_of

SHANGHAI, CHICAGO = ("Asia/Shanghai",), ("America/Chicago",)
#: 09:00 in Shanghai on 2024-03-05
MORNING = datetime(2024, 3, 5, 1, 0, tzinfo=UTC)


def cn(
    cid: str,
    hours: float,
    *,
    talk: bool = False,
    debt: str = "L-1",
    consented: bool = False,
    connected: bool = True,
) -> CallRecord:
    at = MORNING + timedelta(hours=hours)
    return CallRecord(cid, "d1", debt, at, SHANGHAI, "default", "CN", connected, talk, consented)


def flagged(calls: list[CallRecord], settings: RulesSettings | None = None) -> list[str]:
    return [h.rule + ":" + h.reason for h in call_frequency(calls, settings or RulesSettings())]


def test_a_call_after_three_conversations_that_day_is_flagged_whatever_the_debt() -> None:
    talks = [cn("t1", 0, talk=True), cn("t2", 1, talk=True, debt="L-2"), cn("t3", 2, talk=True)]
    fourth = cn("c4", 3)
    hits = call_frequency_of("c4", [*talks, fourth], RulesSettings())
    assert [(h.rule, h.category, h.severity.value) for h in hits] == [
        ("CN-FREQ-1", "call_frequency", "orange")
    ]
    assert hits[0].reason == "2024-03-05 当天已与此人有效沟通 3 次（上限 3 次），本次为当天第 4 次拨打"
    assert "1033" in hits[0].citation
    assert call_frequency_of("c4", [*talks[:2], fourth], RulesSettings()) == []  # two talks: fine
    # a callback the person asked for is not judged, but a conversation in it is a contact
    callback = cn("asked", 2.5, talk=True, consented=True)
    assert call_frequency_of("asked", [*talks, callback], RulesSettings()) == []
    assert [h.rule for h in call_frequency_of("c4", [*talks[:2], callback, fourth], RulesSettings())] == [
        "CN-FREQ-1"
    ]


def test_the_day_is_the_persons_local_day() -> None:
    """Three conversations late on the 5th in Shanghai; a call after midnight there starts a new day
    although it is still the 5th in UTC."""
    late = [cn(f"t{i}", 12 + i * 0.2, talk=True) for i in range(3)]  # 21:00-21:24 Shanghai
    next_day = cn("n", 15.5)  # 00:30 on the 6th in Shanghai, 16:30 UTC on the 5th
    same_day = cn("s", 13)
    assert flagged([*late, next_day]) == []
    assert [h.split(":")[0] for h in flagged([*late, same_day])] == ["CN-FREQ-1"]


def test_calls_placed_count_when_the_institution_caps_them() -> None:
    tries = [cn(f"try{i}", i * 0.5) for i in range(5)] + [cn("asked", 2.6, consented=True)]
    later = cn("sixth", 3)
    assert flagged([*tries, later]) == []  # no cap on calls placed by default
    capped = RulesSettings(prc_max_calls_per_day=5)
    assert flagged([*tries, later], capped) == [
        "CN-FREQ-1:2024-03-05 当天已向此人拨打 5 次（上限 5 次），本次为当天第 6 次拨打"
    ]
    # a callback the person asked for is neither judged nor counted; one that never connected neither
    assert (
        flagged([*tries[:4], cn("asked", 2.6, consented=True), cn("busy", 2.7, connected=False)], capped)
        == []
    )


def test_caps_can_be_lifted_and_us_calls_are_not_judged_so() -> None:
    talks = [cn(f"t{i}", i, talk=True) for i in range(5)]
    assert len(flagged(talks)) == 2  # the 4th and 5th
    assert flagged(talks, RulesSettings(prc_max_contacts_per_day=None)) == []
    us = [
        CallRecord(f"u{i}", "d1", "L-1", MORNING + timedelta(hours=i), CHICAGO, conversation=True)
        for i in range(5)
    ]
    assert {h.split(":")[0] for h in flagged(us)} == {"US-FREQ-2"}  # Regulation F's rules instead


@pytest.mark.parametrize("value", [0, -1])
def test_a_cap_below_one_is_refused(value: int) -> None:
    with pytest.raises(ValidationError):
        RulesSettings(prc_max_contacts_per_day=value)
    with pytest.raises(ValidationError):
        RulesSettings(prc_max_calls_per_day=value)
