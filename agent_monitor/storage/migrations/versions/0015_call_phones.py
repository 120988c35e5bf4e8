"""Calls to one phone number are found by its digits: table ``call_phones``.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06

A live call that names neither its debtor nor its debt (a dialler that passes only the number it
dialled) had no call history, so the frequency rule (Regulation F 1006.14(b)(2)) never judged it.
Its history is now the stored calls to the same number, matched by the number's digits
(``agent_monitor.model.identifiers.phone_key``): ``call_phones`` holds them per call, indexed, and
is filled here for the calls already stored (by a frozen copy of ``phone_key``: no application
imports, like 0008; the tests check the two agree). The rows are derived from the sealed
``calls.debtor_phone`` and are not sealed themselves; the calls, their digests and the evidence
chain stay as they were. Downgrading drops the table (nothing is lost: it is derived).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MIN_PHONE_DIGITS = 7
#: stored calls read and keyed at a time
BATCH = 1000
CALLS = sa.table("calls", sa.column("id", sa.String()), sa.column("debtor_phone", sa.String()))
PHONES = sa.table("call_phones", sa.column("call_id", sa.String()), sa.column("phone_key", sa.String()))


def phone_key(phone: str) -> str | None:
    """``agent_monitor.model.identifiers.phone_key`` as of this revision."""
    digits = "".join(str(unicodedata.decimal(c)) for c in phone if c.isdecimal())
    if digits.startswith("00") and not phone.lstrip().startswith("+"):
        digits = digits[2:]
    return digits if len(digits) >= MIN_PHONE_DIGITS else None


def upgrade() -> None:
    op.create_table(
        "call_phones",
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("phone_key", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_call_phones_call_id_calls")),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_call_phones")),
    )
    op.create_index(op.f("ix_call_phones_phone_key"), "call_phones", ["phone_key"], unique=False)
    bind = op.get_bind()
    with_phone = sa.select(CALLS.c.id, CALLS.c.debtor_phone).where(CALLS.c.debtor_phone.isnot(None))
    stored = bind.execute(with_phone)
    while batch := stored.fetchmany(BATCH):
        rows = [{"call_id": i, "phone_key": key} for i, phone in batch if (key := phone_key(phone))]
        if rows:
            bind.execute(PHONES.insert(), rows)


def downgrade() -> None:
    op.drop_index(op.f("ix_call_phones_phone_key"), table_name="call_phones")
    op.drop_table("call_phones")
