"""Calls and their transcripts: utterances per leg with word timings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agent_monitor.model.audio import Leg
from agent_monitor.model.identifiers import MAX_ID_CHARS, MAX_PHONE_CHARS
from agent_monitor.model.levels import WarningLevel
from agent_monitor.storage.base import Base, in_check
from agent_monitor.storage.enums import CallStatus
from agent_monitor.storage.types import StrEnumType, UTCDateTime, utcnow


class Call(Base):
    __tablename__ = "calls"
    __table_args__ = (
        CheckConstraint(in_check("status", list(CallStatus)), name="status"),
        CheckConstraint(in_check("final_level", list(WarningLevel)), name="final_level"),
        #: a period's calls per agent, from the index alone (reports)
        Index("ix_calls_started_at_agent_id", "started_at", "agent_id"),
    )

    #: the call id given by the ingest protocol (or generated for analysed files)
    id: Mapped[str] = mapped_column(String(MAX_ID_CHARS), primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"), index=True)
    debtor_id: Mapped[str | None] = mapped_column(String(MAX_ID_CHARS), index=True)
    debtor_phone: Mapped[str | None] = mapped_column(String(MAX_PHONE_CHARS))
    #: IANA time zone of the debtor, e.g. ``Asia/Shanghai`` (calling-hours rules use it)
    debtor_tz: Mapped[str | None] = mapped_column(String(MAX_ID_CHARS))
    #: how the audio came in: ``ws_ingest``, ``twilio``, ``audiosocket``, ``capture``, ``file``
    source_protocol: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[CallStatus] = mapped_column(StrEnumType(CallStatus), default=CallStatus.LIVE, index=True)
    final_level: Mapped[WarningLevel] = mapped_column(
        StrEnumType(WarningLevel), default=WarningLevel.NONE, index=True
    )
    high_sensitivity: Mapped[bool] = mapped_column(Boolean, default=False)
    lang: Mapped[str] = mapped_column(String(16), default="en")


class CallDebt(Base):
    """The debt a call was about and the person's consent to it, for the frequency rule (Regulation
    F 1006.14(b) counts calls per debt and leaves out calls made with direct prior consent).

    One row per call that came with a ``debt_id`` or ``consented``; a call without a row is about
    the debt its debtor id stands for, without consent (calls stored before revision 0014). A table
    of its own, not columns of ``calls``: the digest of every call row sealed before stays what it
    was, and these rows are sealed under their own evidence kind, ``call_debt``.
    """

    __tablename__ = "call_debts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id"), unique=True)
    #: ``None``: the call's debtor id stands for the debt
    debt_id: Mapped[str | None] = mapped_column(String(MAX_ID_CHARS))
    consented: Mapped[bool] = mapped_column(Boolean, default=False)


class CallPhone(Base):
    """The debtor's phone number of a call as calls to it are matched
    (:func:`~agent_monitor.model.identifiers.phone_key`), for the frequency rule of a call that names
    neither its debtor nor its debt (revision 0015).

    Derived from the sealed ``calls.debtor_phone`` (one row per call whose number has one), so not
    sealed itself; a table of its own so that call rows and their digests stay as they were.
    """

    __tablename__ = "call_phones"

    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id"), primary_key=True)
    phone_key: Mapped[str] = mapped_column(String(MAX_PHONE_CHARS), index=True)


class CallHolder(Base):
    """The process (its node and a call manager's instance id) that set the call live the last
    time it was started or resumed (revision 0018): a dead node's call is marked aborted only while
    it still names that node's process, so a call the phone switch reconnected to another node
    meanwhile goes on; a floor node's start marks aborted the live calls its node holds. Who holds
    a call now, not what happened in it: not sealed; a table of its own so that call rows and their
    digests stay as they were (and a call stored before has none)."""

    __tablename__ = "call_holders"

    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id"), primary_key=True)
    node: Mapped[str] = mapped_column(String(200), index=True)
    instance: Mapped[str] = mapped_column(String(64))


class Utterance(Base):
    """The latest transcript of one utterance of one leg (a partial until ``final``)."""

    __tablename__ = "utterances"
    __table_args__ = (
        UniqueConstraint("call_id", "leg", "utterance_no"),
        CheckConstraint(in_check("leg", list(Leg)), name="leg"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id"), index=True)
    leg: Mapped[Leg] = mapped_column(StrEnumType(Leg))
    utterance_no: Mapped[int] = mapped_column(Integer)
    #: call-clock seconds
    start_s: Mapped[float] = mapped_column(Double)
    end_s: Mapped[float] = mapped_column(Double)
    text: Mapped[str] = mapped_column(Text)
    #: ``text`` as the full-text index sees it (:func:`agent_monitor.storage.search.searchable`)
    search_text: Mapped[str] = mapped_column(Text, server_default="")
    final: Mapped[bool] = mapped_column(Boolean)
    lang: Mapped[str] = mapped_column(String(16), default="en")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    words: Mapped[list[WordRow]] = relationship(
        order_by="WordRow.idx", cascade="all, delete-orphan", passive_deletes=True
    )


class WordRow(Base):
    """One recognised word of an utterance (call-clock seconds, confidence in [0, 1])."""

    __tablename__ = "words"

    utterance_id: Mapped[int] = mapped_column(
        ForeignKey("utterances.id", ondelete="CASCADE"), primary_key=True
    )
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(String(200))
    start_s: Mapped[float] = mapped_column(Double)
    end_s: Mapped[float] = mapped_column(Double)
    conf: Mapped[float] = mapped_column(Double)
