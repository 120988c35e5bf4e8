"""Call records: the metadata of placed calls, used by calling-hours and frequency rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from agent_monitor.errors import CallRecordError


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One call placed (or attempted) to a person about a debt.

    ``placed_at`` is a timezone-aware UTC instant. ``debtor_timezones`` are the IANA zone names the
    person may be in (several when area code and address disagree; a call must be convenient in
    every one). ``connected`` is false for calls that never reached the dialed number (busy,
    network error): they do not count toward frequency caps. ``conversation`` is true when the
    person was actually spoken to about the debt. ``consented`` marks calls made with the person's
    direct prior consent (excluded from the Regulation F counts).
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

    def __post_init__(self) -> None:
        if self.placed_at.tzinfo is None:
            raise CallRecordError(f"call {self.call_id}: placed_at must be timezone-aware")
        if not self.debtor_timezones:
            raise CallRecordError(f"call {self.call_id}: at least one debtor time zone is required")
