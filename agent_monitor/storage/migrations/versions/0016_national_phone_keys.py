"""A national phone number is matched with the international one: ``call_phones`` keyed again.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06

Revision 0015 keyed a call's number by its digits as written, so ``555-123-4567`` and
``+1 555 123 4567`` were two numbers and a dialler that wrote both kept the frequency rule from
counting the calls together. The key now reads a number written without ``+`` or ``00`` in the
country of the call's jurisdiction (``agent_monitor.model.calls.call_phone_key``: US ``1``, PRC
``86``, by the first zone of the call's ``debtor_tz``, else its language), so the rows of the calls
already stored are keyed again here (a frozen copy of the rule, no application imports, like 0008
and 0015; the tests check the two agree). The rows are derived from the sealed ``calls`` columns and
are not sealed; the calls, their digests and the evidence chain stay as they were. Downgrading keys
them by their digits as written again (0015's rule).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MIN_PHONE_DIGITS = 7
#: stored calls read and keyed at a time
BATCH = 1000
CALLS = sa.table(
    "calls",
    sa.column("id", sa.String()),
    sa.column("debtor_phone", sa.String()),
    sa.column("debtor_tz", sa.String()),
    sa.column("lang", sa.String()),
)
PHONES = sa.table("call_phones", sa.column("call_id", sa.String()), sa.column("phone_key", sa.String()))

PRC_ZONES = frozenset(
    {"Asia/Shanghai", "Asia/Urumqi", "Asia/Chongqing", "Asia/Chungking", "Asia/Harbin", "Asia/Kashgar", "PRC"}
)
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


def _country(debtor_tz: str | None, lang: str | None) -> str:
    """``CALLING_CODES[jurisdiction_of(first zone, lang)]`` as of this revision."""
    first = (debtor_tz or "").split(",")[0].strip()
    if first in PRC_ZONES:
        return "86"
    if first in US_ZONES:
        return "1"
    return "86" if lang == "zh" else "1"


def phone_key(phone: str, country: str | None) -> str | None:
    """``agent_monitor.model.identifiers.phone_key`` as of this revision (``country=None``: as of
    revision 0015)."""
    digits = "".join(str(unicodedata.decimal(c)) for c in phone if c.isdecimal())
    international = phone.lstrip().startswith("+")
    if digits.startswith("00") and not international:
        digits, international = digits[2:], True
    if country and not international:
        if country == "1":
            digits = "1" + digits if len(digits) == 10 else digits
        elif digits.startswith("0") and not digits.startswith("00"):
            digits = country + digits[1:]
        elif country == "86" and len(digits) == 11 and digits.startswith("1"):
            digits = country + digits
    return digits if len(digits) >= MIN_PHONE_DIGITS else None


def _rekey(national: bool) -> None:
    bind = op.get_bind()
    bind.execute(PHONES.delete())
    with_phone = sa.select(CALLS.c.id, CALLS.c.debtor_phone, CALLS.c.debtor_tz, CALLS.c.lang).where(
        CALLS.c.debtor_phone.isnot(None)
    )
    stored = bind.execute(with_phone)
    while batch := stored.fetchmany(BATCH):
        rows = []
        for call_id, phone, zone, lang in batch:
            key = phone_key(phone, _country(zone, lang) if national else None)
            if key is not None:
                rows.append({"call_id": call_id, "phone_key": key})
        if rows:
            bind.execute(PHONES.insert(), rows)


def upgrade() -> None:
    _rekey(national=True)


def downgrade() -> None:
    _rekey(national=False)
