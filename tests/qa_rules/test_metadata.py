"""Calling hours and Regulation F frequency caps over call records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent_monitor.errors import CallRecordError
from agent_monitor.model.calls import CallRecord, jurisdiction_of
from agent_monitor.settings import RulesSettings
from qa_rules.metadata import call_frequency, call_frequency_of, calling_hours


def call(cid: str, at: datetime, tz: tuple[str, ...] = ("America/New_York",), **kw: object) -> CallRecord:
    return CallRecord(cid, kw.pop("debtor", "d1"), kw.pop("debt", "x1"), at, tz, **kw)  # type: ignore[arg-type]


def test_us_calling_hours_in_every_possible_zone() -> None:
    s = RulesSettings()
    ok = call("a", datetime(2024, 3, 5, 14, 0, tzinfo=UTC))  # 09:00 New York
    early = call("b", datetime(2024, 3, 5, 12, 30, tzinfo=UTC))  # 07:30 New York
    late = call("c", datetime(2024, 3, 6, 2, 0, 1, tzinfo=UTC))  # 21:00:01 New York: after 9 p.m.
    # 09:00 in New York but 06:00 in Los Angeles: inconvenient in one possible zone
    two_zones = call(
        "d", datetime(2024, 3, 5, 14, 0, tzinfo=UTC), ("America/New_York", "America/Los_Angeles")
    )
    hits = calling_hours([ok, early, late, two_zones], s)
    assert [c.call_id for c in (ok, early, late, two_zones) if calling_hours([c], s)] == ["b", "c", "d"]
    assert all(h.rule == "US-TIME-1" and h.category == "calling_hours" for h in hits)
    assert "06:00 America/Los_Angeles" in hits[2].reason
    assert "Placed at 21:00:01 America/New_York" in hits[1].reason  # not "21:00", which is allowed


def test_the_window_s_ends_are_allowed() -> None:
    """FDCPA 805(a)(1): no call "before 8:00 a.m." or "after 9:00 p.m." local time, so a call at
    08:00:00 or 21:00:00 exactly is inside the window (one second either side is not)."""
    s = RulesSettings()
    edges = [datetime(2024, 3, 5, 13, 0, tzinfo=UTC), datetime(2024, 3, 6, 2, 0, tzinfo=UTC)]
    assert calling_hours([call(f"edge-{i}", at) for i, at in enumerate(edges)], s) == []
    outside = [at + timedelta(seconds=step) for at, step in zip(edges, (-1, 1), strict=True)]
    hits = calling_hours([call(f"out-{i}", at) for i, at in enumerate(outside)], s)
    assert [h.rule for h in hits] == ["US-TIME-1", "US-TIME-1"]
    assert "Placed at 07:59:59" in hits[0].reason and "Placed at 21:00:01" in hits[1].reason
    zh = call("zh-edge", datetime(2024, 3, 5, 13, 0, tzinfo=UTC), ("Asia/Shanghai",), jurisdiction="CN")
    assert calling_hours([zh], s) == []  # 21:00:00 in Shanghai, the PRC window's end


def test_prc_window_is_a_per_tenant_setting() -> None:
    s = RulesSettings(prc_calling_window_by_tenant={"strict": ("09:00", "20:00")})
    at = datetime(2024, 3, 5, 12, 30, tzinfo=UTC)  # 20:30 Shanghai
    default = call("a", at, ("Asia/Shanghai",), jurisdiction="CN")
    strict = call("b", at, ("Asia/Shanghai",), jurisdiction="CN", tenant="strict")
    assert calling_hours([default], s) == []
    assert [h.rule for h in calling_hours([strict], s)] == ["CN-TIME-1"]


def test_seven_calls_in_seven_days() -> None:
    s = RulesSettings()
    start = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)
    calls = [call(f"c{i}", start + timedelta(hours=20 * i)) for i in range(8)]
    hits = call_frequency(calls, s)
    assert [h.rule for h in hits] == ["US-FREQ-1"]
    assert call_frequency_of("c7", calls, s) == hits and call_frequency_of("c6", calls, s) == []
    # unconnected and consented calls do not count; another debt is counted separately
    calls[3] = call("c3", calls[3].placed_at, connected=False)
    calls[4] = call("c4", calls[4].placed_at, consented=True)
    other = call("o1", start, debt="x2")
    assert call_frequency([*calls, other], s) == []


def test_the_findings_say_this_number_only_for_a_call_counted_by_its_number() -> None:
    """Whether a call is counted by its phone number is a field of the record (``by_phone``), not
    read from its debt id: a real debt id that begins with "phone " is still a debt."""
    s = RulesSettings()
    start = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)
    for by_phone, whom in ((True, "to this number"), (False, "to this person about this debt")):
        calls = [call(f"c{i}", start + timedelta(hours=20 * i), debt="phone 15551234567", by_phone=by_phone)
                 for i in range(8)]  # fmt: skip
        (hit,) = call_frequency(calls, s)
        assert f"This is call 8 {whom} within 7" in hit.reason, hit.reason


def test_no_call_within_seven_days_after_a_conversation() -> None:
    s = RulesSettings()
    day1 = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)
    talk = call("t", day1, conversation=True)
    day7 = call("n7", day1 + timedelta(days=6))
    day8 = call("n8", day1 + timedelta(days=7))
    hits = call_frequency([day8, talk, day7], s)
    assert [h.rule for h in hits] == ["US-FREQ-2"]
    assert call_frequency_of("n7", [day8, talk, day7], s) == hits
    assert "day 7 of 7" in hits[0].reason


def test_a_conversation_in_a_consented_call_starts_the_seven_days() -> None:
    """The consented call itself is not counted (1006.14(b)(3)), but the conversation held in it is
    a telephone conversation: a call placed the next day, without consent, is within its 7 days."""
    s = RulesSettings()
    day1 = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)
    callback = call("cb", day1, consented=True, conversation=True)
    next_day = call("n2", day1 + timedelta(days=1))
    day8 = call("n8", day1 + timedelta(days=7))
    hits = call_frequency([callback, next_day, day8], s)
    assert [h.rule for h in hits] == ["US-FREQ-2"]
    assert call_frequency_of("n2", [callback, next_day, day8], s) == hits
    assert "day 2 of 7" in hits[0].reason
    # a consented call is itself never flagged, even right after another conversation
    talk = call("t", day1 - timedelta(days=1), conversation=True)
    assert call_frequency_of("cb", [talk, callback], s) == []


def test_bad_call_records_are_rejected() -> None:
    with pytest.raises(CallRecordError, match="timezone-aware"):
        CallRecord("a", "d", "x", datetime(2024, 1, 1, 9, 0), ("UTC",))
    with pytest.raises(CallRecordError, match="unknown time zone"):
        calling_hours([call("z", datetime(2024, 1, 1, tzinfo=UTC), ("Mars/Olympus",))], RulesSettings())
    # `localtime` is whatever zone the server runs in, not the debtor's
    with pytest.raises(CallRecordError, match="unknown time zone 'localtime': not the zone of a place"):
        calling_hours([call("z", datetime(2024, 1, 1, tzinfo=UTC), ("localtime",))], RulesSettings())


def test_metadata_hits_quote_nothing_and_name_no_identifier() -> None:
    """A call-metadata finding is not something the agent said: no evidence text, no span, and its
    reason gives the local time and the allowed window, not the call id or the debtor id."""
    s = RulesSettings()
    late = call("demo-40b66534", datetime(2024, 3, 6, 2, 30, tzinfo=UTC), debtor="D-5551234567")
    (hit,) = calling_hours([late], s)
    assert hit.evidence == "" and hit.span is None
    assert "demo-40b66534" not in hit.reason and hit.title not in hit.reason
    assert hit.reason == (
        "Placed at 21:30 America/New_York local time; "
        "calls are allowed only 08:00-21:00 in the debtor's local time"
    )
    zh = call("demo-1", datetime(2024, 3, 5, 14, 30, tzinfo=UTC), ("Asia/Shanghai",), jurisdiction="CN")
    (zh_hit,) = calling_hours([zh], s)
    assert zh_hit.evidence == "" and "demo-1" not in zh_hit.reason and "22:30" in zh_hit.reason
    start = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)
    calls = [call(f"demo-{i}", start + timedelta(hours=20 * i), debtor="D-5551234567") for i in range(8)]
    (freq,) = call_frequency(calls, s)
    assert freq.evidence == "" and "demo-" not in freq.reason and "D-555" not in freq.reason


def test_jurisdiction_follows_the_debtors_zone_then_the_language() -> None:
    assert jurisdiction_of("America/Los_Angeles", "zh") == "US"
    assert jurisdiction_of("US/Eastern", "zh") == "US"
    assert jurisdiction_of("Pacific/Honolulu", "zh") == "US"
    assert jurisdiction_of("Asia/Shanghai", "en") == "CN"
    assert jurisdiction_of("Asia/Urumqi", "en") == "CN"
    # neither a US nor a PRC zone: the language decides, as before
    assert jurisdiction_of("Asia/Taipei", "zh") == "CN"
    assert jurisdiction_of("Europe/London", "en") == "US"


def test_a_conversation_s_day_is_counted_in_the_zone_of_the_call_judged() -> None:
    """The 7 days after a conversation (1006.14(b)(2)(i)(B)) are counted in one zone, the judged
    call's, as the 7 calls in 7 days are: a conversation stored with New York's zone at 01:00 on
    3 March is 2 March, 22:00 in Los Angeles, so a call on 9 March in Los Angeles is on day 8."""
    s = RulesSettings()
    talk = call("talk", datetime(2024, 3, 3, 6, 0, tzinfo=UTC), conversation=True)  # 01:00 New York
    later = call("later", datetime(2024, 3, 9, 18, 0, tzinfo=UTC), ("America/Los_Angeles",))  # 10:00
    assert call_frequency_of("later", [talk, later], s) == []
    sooner = call("sooner", datetime(2024, 3, 8, 18, 0, tzinfo=UTC), ("America/Los_Angeles",))
    (hit,) = call_frequency_of("sooner", [talk, sooner], s)
    assert hit.rule == "US-FREQ-2" and "on 2024-03-02 (day 7 of 7)" in hit.reason, hit.reason
