"""Call-metadata rules, as pure functions over :class:`~agent_monitor.model.calls.CallRecord` lists.

* :func:`calling_hours`: a call placed outside the allowed window in **any** of the debtor's
  possible time zones (US: 08:00-21:00 local, FDCPA 805(a)(1) / Reg F 1006.6(b)(1)(i); PRC: a
  per-tenant window, default 08:00-21:00, because the NIFA figure is unverified). Both ends are
  allowed: the statute forbids calls "before 8:00 a.m." and "after 9:00 p.m.", so 21:00:00 is
  inside and 21:00:01 is not.
* :func:`call_frequency`: Regulation F 1006.14(b)(2): more than 7 calls to a person about a debt
  within 7 consecutive days, or any call within 7 days after a telephone conversation about that
  debt (the conversation day is day 1). Calls that did not connect and calls made with the
  person's prior consent are not counted; voicemail drops are. A conversation in a consented
  call is still a telephone conversation: the 7 days after it apply to the calls that follow.

Days are calendar days in the debtor's (first) time zone as the call being judged gives it: the
earlier calls and conversations are dated in that zone too, whatever zone they were stored with.
The frequency presumptions are US law and apply to ``jurisdiction="US"`` records.

* :func:`call_frequency` also judges PRC records against a daily cap (``CN-FREQ-1``): the law
  forbids harassing calls (民法典 1033 (一), 治安管理处罚法 42 (五); rule CN-HARASS-1) but gives no
  number, so the caps are institution policy (``rules.prc_max_contacts_per_day``, default 3
  conversations with the person a day, the figure secondary sources quote; and
  ``rules.prc_max_calls_per_day``, calls placed a day, off by default). A call placed once the
  person has had that many conversations, or been called that many times, that local day is
  flagged. Counted per person (every debt); calls that did not connect are not counted, and a
  callback the person asked for is neither judged nor counted as a call placed (a conversation in
  it is still a contact).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from agent_monitor.errors import CallRecordError
from agent_monitor.model.calls import CallRecord
from agent_monitor.model.identifiers import time_zone
from agent_monitor.model.rules import RuleHit, Severity
from agent_monitor.settings import RulesSettings

US_TIME_CITATION = "FDCPA 805(a)(1) [15 U.S.C. 1692c(a)(1)]; Reg F 12 CFR 1006.6(b)(1)(i)"
CN_TIME_CITATION = "催收规则 CN-TIME-1（NIFA 自律公约，时段未经核实，按租户配置）"
FREQ_CITATION = "Reg F 12 CFR 1006.14(b)(2)(i)(A) (7 calls in 7 days) and (B) (7 days after a conversation)"
CN_FREQ_CITATION = (
    "《民法典》第1033条（一）；《治安管理处罚法》（2012）第42条（五）；"
    "催收规则 CN-HARASS-1（每日上限为机构政策，按配置）"
)


def _zone(name: str, call_id: str) -> ZoneInfo:
    try:
        return time_zone(name)
    except ValueError as exc:
        raise CallRecordError(f"call {call_id}: {exc}") from exc


def _hhmm(value: str) -> time:
    try:
        hh, mm = value.split(":")
        return time(int(hh), int(mm))
    except ValueError as exc:
        raise CallRecordError(f"calling window time {value!r} is not HH:MM") from exc


def window_for(call: CallRecord, settings: RulesSettings) -> tuple[time, time]:
    """The allowed local calling window for the call's jurisdiction and tenant."""
    if call.jurisdiction.upper() in ("CN", "PRC"):
        start, end = settings.prc_calling_window_by_tenant.get(call.tenant, settings.prc_calling_window)
    else:
        start, end = settings.us_calling_window
    return _hhmm(start), _hhmm(end)


def _clock(local: datetime) -> str:
    """The local time a call was placed, to the minute unless that would read as inside the window
    (21:00 for a call at 21:00:30)."""
    return f"{local:%H:%M}" if local.second == local.microsecond == 0 else f"{local:%H:%M:%S}"


def _hit(rule: str, title: str, category: str, reason: str, citation: str) -> RuleHit:
    """A finding about the call's metadata: nothing was said, so no evidence text and no span."""
    return RuleHit(
        rule=rule,
        title=title,
        category=category,
        severity=Severity.ORANGE,
        leg=None,
        span=None,
        evidence="",
        reason=reason,
        citation=citation,
        compliant=None,
    )


def calling_hours(calls: Iterable[CallRecord], settings: RulesSettings) -> list[RuleHit]:
    """One hit per call placed outside the allowed window in at least one possible time zone."""
    hits: list[RuleHit] = []
    for call in calls:
        start, end = window_for(call, settings)
        for tz in call.debtor_timezones:
            local = call.placed_at.astimezone(_zone(tz, call.call_id))
            if not (start <= local.time() <= end):
                cn = call.jurisdiction.upper() in ("CN", "PRC")
                window = f"{start:%H:%M}-{end:%H:%M}"
                if cn:
                    title = "在允许的时段以外拨打电话"
                    reason = (
                        f"本次通话于债务人当地时间 {_clock(local)}（{tz}）拨出；"
                        f"只能在当地时间 {window} 内拨打"
                    )
                else:
                    title = "Call outside the allowed calling hours"
                    reason = (
                        f"Placed at {_clock(local)} {tz} local time; calls are allowed only {window} "
                        "in the debtor's local time"
                    )
                rule, citation = ("CN-TIME-1", CN_TIME_CITATION) if cn else ("US-TIME-1", US_TIME_CITATION)
                hits.append(_hit(rule, title, "calling_hours", reason, citation))
                break
    return hits


def _day(call: CallRecord) -> date:
    return call.placed_at.astimezone(_zone(call.debtor_timezones[0], call.call_id)).date()


def call_frequency(calls: Iterable[CallRecord], settings: RulesSettings) -> list[RuleHit]:
    """Hits for calls beyond the Regulation F frequency presumptions, per person and debt."""
    return [hit for _, hit in _frequency(calls, settings)]


def call_frequency_of(call_id: str, calls: Iterable[CallRecord], settings: RulesSettings) -> list[RuleHit]:
    """The frequency hits about the call ``call_id`` (the others of ``calls`` are its history)."""
    return [hit for about, hit in _frequency(calls, settings) if about == call_id]


def _frequency(calls: Iterable[CallRecord], settings: RulesSettings) -> list[tuple[str, RuleHit]]:
    """(call id, hit) for every call beyond the frequency presumptions (US) or daily caps (PRC)."""
    calls = list(calls)
    return _us_frequency(calls, settings) + _prc_frequency(calls, settings)


def _us_frequency(calls: list[CallRecord], settings: RulesSettings) -> list[tuple[str, RuleHit]]:
    """(call id, hit) for every US call beyond the Regulation F presumptions."""
    groups: dict[tuple[str, str], list[CallRecord]] = defaultdict(list)
    for call in calls:
        if call.jurisdiction.upper() == "US":
            groups[(call.debtor_id, call.debt_id)].append(call)
    hits: list[tuple[str, RuleHit]] = []
    max_calls = settings.freq_max_calls
    window = settings.freq_window_days
    after = settings.freq_after_conversation_days
    for group in groups.values():
        group.sort(key=lambda c: c.placed_at)
        placed: list[datetime] = []
        last_conversation: datetime | None = None  # when; its day is counted in each later call's zone
        for call in group:
            day = _day(call)
            if not call.connected or call.consented:
                # not counted (1006.14(b)(3)); a conversation in a consented call still happened
                if call.connected and call.conversation:
                    last_conversation = call.placed_at
                continue
            in_window = [p for p in placed if (day - _day_of(p, call)).days < window]
            if len(in_window) >= max_calls:
                whom = "this number" if call.by_phone else "this person about this debt"
                reason = (
                    f"This is call {len(in_window) + 1} to {whom} within {window} "
                    f"consecutive days; more than {max_calls} is presumed harassment"
                )
                hits.append(
                    (call.call_id, _hit("US-FREQ-1", f"More than {max_calls} calls in {window} days",
                                        "call_frequency", reason, FREQ_CITATION))
                )  # fmt: skip
            talked = None if last_conversation is None else _day_of(last_conversation, call)
            if talked is not None and 0 <= (day - talked).days < after:
                about = "with this number" if call.by_phone else "about this debt"
                reason = (
                    f"Placed on {day}, after a telephone conversation {about} on "
                    f"{talked} (day {(day - talked).days + 1} of {after}); "
                    "no calls are allowed in that period"
                )
                hits.append(
                    (call.call_id, _hit("US-FREQ-2", f"Call within {after} days after a conversation",
                                        "call_frequency", reason, FREQ_CITATION))
                )  # fmt: skip
            placed.append(call.placed_at)
            if call.conversation:
                last_conversation = call.placed_at
    return hits


def _day_of(instant: datetime, like: CallRecord) -> date:
    return instant.astimezone(_zone(like.debtor_timezones[0], like.call_id)).date()


def _prc_frequency(calls: list[CallRecord], settings: RulesSettings) -> list[tuple[str, RuleHit]]:
    """(call id, hit) for every PRC call placed beyond a daily cap (see the module documentation)."""
    most_contacts, most_calls = settings.prc_max_contacts_per_day, settings.prc_max_calls_per_day
    groups: dict[str, list[CallRecord]] = defaultdict(list)
    for call in calls:
        if call.jurisdiction.upper() in ("CN", "PRC"):
            groups[call.debtor_id].append(call)
    hits: list[tuple[str, RuleHit]] = []
    for group in groups.values():
        group.sort(key=lambda c: c.placed_at)
        for n, call in enumerate(group):
            if not call.connected or call.consented:
                continue
            day = _day(call)
            today = [c for c in group[:n] if c.connected and _day_of(c.placed_at, call) == day]
            talks = sum(c.conversation for c in today)
            placed = sum(not c.consented for c in today)
            nth = f"本次为当天第 {placed + 1} 次拨打"
            if most_contacts is not None and talks >= most_contacts:
                reason = f"{day} 当天已与此人有效沟通 {talks} 次（上限 {most_contacts} 次），{nth}"
            elif most_calls is not None and placed >= most_calls:
                reason = f"{day} 当天已向此人拨打 {placed} 次（上限 {most_calls} 次），{nth}"
            else:
                continue
            hit = _hit("CN-FREQ-1", "当天联系次数超过上限", "call_frequency", reason, CN_FREQ_CITATION)
            hits.append((call.call_id, hit))
    return hits
