"""Call records: the metadata of placed calls, used by calling-hours and frequency rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from agent_monitor.errors import CallRecordError
from agent_monitor.model.identifiers import phone_key

#: the start of a :class:`CallRecord`'s ``debt_id`` that stands for the calls to one phone number
#: (a call that named neither debtor nor debt: :attr:`~agent_monitor.model.session.CallInfo.frequency_key`)
PHONE_DEBT = "phone "


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One call placed (or attempted) to a person about a debt.

    ``placed_at`` is a timezone-aware UTC instant. ``debtor_timezones`` are the IANA zone names the
    person may be in (several when area code and address disagree; a call must be convenient in
    every one). ``connected`` is false for calls that never reached the dialed number (busy,
    network error): they do not count toward frequency caps. ``conversation`` is true when the
    person was actually spoken to about the debt. ``consented`` marks calls made with the person's
    direct prior consent (excluded from the Regulation F counts). ``by_phone``: the call named
    neither person nor debt, and ``debt_id`` stands for every call to its phone number
    (:data:`PHONE_DEBT`; the findings then speak of "this number").
    """

    call_id: str
    debtor_id: str
    debt_id: str
    placed_at: datetime
    debtor_timezones: tuple[str, ...]
    tenant: str = "default"
    jurisdiction: str = "US"
    connected: bool = True
    conversation: bool = False
    consented: bool = False
    voicemail: bool = False
    by_phone: bool = False

    def __post_init__(self) -> None:
        if self.placed_at.tzinfo is None:
            raise CallRecordError(f"call {self.call_id}: placed_at must be timezone-aware")
        if not self.debtor_timezones:
            raise CallRecordError(f"call {self.call_id}: at least one debtor time zone is required")


#: IANA zones of the People's Republic of China (zone.tab ``CN`` and their backward links)
PRC_ZONES = frozenset(
    {"Asia/Shanghai", "Asia/Urumqi", "Asia/Chongqing", "Asia/Chungking", "Asia/Harbin", "Asia/Kashgar", "PRC"}
)
#: IANA zones of the United States and its territories (zone.tab ``US``, ``PR``, ``VI``, ``GU``,
#: ``MP``, ``AS``, and the ``US/*`` backward links): the FDCPA and Regulation F protect consumers there
US_ZONES = frozenset(
    {
        *(
            f"America/{name}"
            for name in (
                "New_York", "Detroit", "Kentucky/Louisville", "Kentucky/Monticello", "Louisville",
                "Fort_Wayne", "Indianapolis", "Knox_IN", "Indiana/Indianapolis", "Indiana/Vincennes",
                "Indiana/Winamac", "Indiana/Marengo", "Indiana/Petersburg", "Indiana/Vevay",
                "Indiana/Tell_City", "Indiana/Knox", "Chicago", "Menominee", "North_Dakota/Center",
                "North_Dakota/New_Salem", "North_Dakota/Beulah", "Denver", "Shiprock", "Boise",
                "Phoenix", "Los_Angeles", "Anchorage", "Juneau", "Sitka", "Metlakatla", "Yakutat",
                "Nome", "Adak", "Atka", "Puerto_Rico", "St_Thomas", "Virgin",
            )
        ),
        *(
            f"US/{name}"
            for name in (
                "Alaska", "Aleutian", "Arizona", "Central", "East-Indiana", "Eastern", "Hawaii",
                "Indiana-Starke", "Michigan", "Mountain", "Pacific", "Samoa",
            )
        ),
        "Pacific/Honolulu", "Pacific/Johnston", "Pacific/Guam", "Pacific/Saipan", "Pacific/Pago_Pago",
        "Pacific/Samoa", "Navajo",
    }
)  # fmt: skip


def jurisdiction_of(debtor_tz: str, lang: str) -> str:
    """Whose calling rules apply to a call: where the debtor is, by their time zone (``CN`` in a
    zone of the PRC, ``US`` in one of the United States); elsewhere the call's language decides
    (``zh``: ``CN``, otherwise ``US``). A Mandarin call to a debtor in San Francisco is a US call."""
    if debtor_tz in PRC_ZONES:
        return "CN"
    if debtor_tz in US_ZONES:
        return "US"
    return "CN" if lang == "zh" else "US"


#: the country calling code of each jurisdiction (:func:`jurisdiction_of`)
CALLING_CODES = {"US": "1", "CN": "86"}


def call_phone_key(phone: str | None, debtor_tz: str | None, lang: str) -> str | None:
    """What the calls to a call's number are matched by (:func:`phone_key`): a number written
    without a country code is read in the country of the call's jurisdiction, by the first zone of
    its own ``debtor_tz`` as given, else by its language (:func:`jurisdiction_of`). It depends on
    the call's stored columns only, so ``db verify`` can derive it again."""
    first = (debtor_tz or "").split(",")[0].strip()
    return phone_key(phone, CALLING_CODES[jurisdiction_of(first, lang)])
