"""The evidence log: a hash chain recording the digest of every version of every evidence row.

Transcripts (utterances with their words), rule hits, calls (their level, status and times), the
debt and consent a call came with, signal health, recordings (path, checksum) and a call's stress
readings (one entry per sealed range of sample ids) change while a call runs (a partial becomes
final, a hit is confirmed, the level rises, the recording is closed), so they cannot be
hash-chained themselves.
Instead, every transaction that writes one of them appends here the sha256 of the row as it was
committed (:mod:`agent_monitor.storage.evidence`); ``db verify`` recomputes the digest of every
current row and compares it with the newest entry for that row.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import CheckConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from agent_monitor.storage.base import SHA256_HEX, Base, in_check
from agent_monitor.storage.types import UTCDateTime

#: the kinds of evidence rows, by table
EVIDENCE_KINDS = ("utterance", "rule_hit", "call", "recording", "signal_health", "stress", "call_debt")


class EvidenceEntry(Base):
    __tablename__ = "evidence_log"
    __table_args__ = (
        CheckConstraint(in_check("kind", EVIDENCE_KINDS), name="kind"),
        Index("ix_evidence_log_kind_ref", "kind", "ref"),
    )
    HASHED: ClassVar[tuple[str, ...]] = ("id", "kind", "ref", "call_id", "digest", "at", "prev_hash")

    #: the position in the hash chain: 1, 2, 3, ... without gaps
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    #: which table: one of :data:`EVIDENCE_KINDS`
    kind: Mapped[str] = mapped_column(String(16))
    #: the row's key in its table (its id; the call id for calls; ``FIRST-LAST`` sample ids for stress)
    ref: Mapped[str] = mapped_column(String(64))
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    #: sha256 of the row's canonical content (see agent_monitor.storage.evidence)
    digest: Mapped[str] = mapped_column(String(SHA256_HEX))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    prev_hash: Mapped[str] = mapped_column(String(SHA256_HEX))
    row_hash: Mapped[str] = mapped_column(String(SHA256_HEX), unique=True)
