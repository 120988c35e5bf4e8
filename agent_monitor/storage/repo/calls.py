"""Calls: start, end, level, lookup and listing (for the live pipeline and the web application)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from agent_monitor.errors import ConflictError, InvalidRecordError, NotFoundError
from agent_monitor.model.audio import Leg
from agent_monitor.model.calls import call_phone_key
from agent_monitor.model.identifiers import debtor_zones
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.rules import WRONG_PARTY
from agent_monitor.model.session import Holder
from agent_monitor.storage.enums import CallStatus, HitStatus
from agent_monitor.storage.repo.people import ensure_agent
from agent_monitor.storage.tables import Agent, Call, CallDebt, CallHolder, CallPhone, RuleHitRow, Utterance
from agent_monitor.storage.types import as_utc


def start_call(
    session: Session,
    call_id: str,
    agent_id: str,
    *,
    source_protocol: str,
    started_at: datetime | None = None,
    debtor_id: str | None = None,
    debtor_phone: str | None = None,
    debtor_tz: str | None = None,
    lang: str = "en",
    resume: bool = False,
    debt_id: str | None = None,
    consented: bool = False,
    holder: Holder | None = None,
    present: Collection[str] | None = None,
) -> Call:
    """Record a new live call (the agent is created if unknown), held by process ``holder``.

    With ``resume=True`` a call that already exists (a client reconnecting, or a server restarted
    mid-call) is set live again, held by ``holder``, and returned as it is (its row read under a
    lock, PostgreSQL: a node marking it aborted meanwhile holds it until it commits, and the resume
    then sets it live again); otherwise an existing id is a :class:`ConflictError`. A ``debt_id``
    or ``consented`` is stored in ``call_debts`` (a call without either has no row there: its debt
    is its debtor id's, not consented), the phone number's key in ``call_phones``
    (:func:`call_phone_key`: its digits, a national number read in the country of the call's
    jurisdiction).

    On a floor, ``present`` names the nodes whose presence is current: a resume of a call live
    and held by one of them other than ``holder``'s node is a :class:`ConflictError` ("call C is
    live on node N", :func:`held_elsewhere`), decided under the row's lock, so two nodes never
    both take a call over; a call of a node gone (its presence expired) or of ``holder``'s own
    node (its previous process) is taken over.
    """
    if not call_id:
        raise InvalidRecordError("a call needs a non-empty call id")
    if not isinstance(consented, bool):
        raise InvalidRecordError(f"call {call_id!r}: consented must be true or false")
    call = session.get(Call, call_id, with_for_update=resume, populate_existing=resume)
    if call is not None:
        if not resume:
            raise ConflictError(f"call {call_id!r} already exists")
        return _resume(session, call, agent_id, holder, present)
    ensure_agent(session, agent_id)
    call = Call(
        id=call_id,
        agent_id=agent_id,
        source_protocol=source_protocol,
        started_at=as_utc(started_at, "started_at"),
        debtor_id=debtor_id,
        debtor_phone=debtor_phone,
        debtor_tz=debtor_tz,
        lang=lang,
        status=CallStatus.LIVE,
        final_level=WarningLevel.NONE,
        high_sensitivity=False,
    )
    return _add_new(session, call, debt_id, consented, holder)


def _add_new(
    session: Session, call: Call, debt_id: str | None, consented: bool, holder: Holder | None
) -> Call:
    """Add a new call's rows. The same call stored meanwhile by another process (two nodes opening
    one new call at once, PostgreSQL: the insert waits for the other's commit) is a
    :class:`ConflictError`."""
    session.add(call)
    try:
        session.flush()
    except IntegrityError as exc:
        if not any(name in str(exc.orig) for name in ("pk_calls", "calls.id")):
            raise
        raise ConflictError(f"call {call.id!r} was opened by another process at the same moment") from None
    if debt_id is not None or consented:
        session.add(CallDebt(call_id=call.id, debt_id=debt_id, consented=consented))
    key = call_phone_key(call.debtor_phone, call.debtor_tz, call.lang)
    if key is not None:
        session.add(CallPhone(call_id=call.id, phone_key=key))
    _hold(session, call.id, holder)
    session.flush()
    return call


def _resume(
    session: Session, call: Call, agent_id: str, holder: Holder | None, present: Collection[str] | None
) -> Call:
    if call.agent_id != agent_id:
        raise ConflictError(f"call {call.id!r} belongs to agent {call.agent_id!r}, not {agent_id!r}")
    if holder is not None and present is not None:  # the row is read under its lock already
        _refuse(call.id, _other_holder(session, call, holder.node, present))
    call.status, call.ended_at = CallStatus.LIVE, None
    _hold(session, call.id, holder)
    return call


def _hold(session: Session, call_id: str, holder: Holder | None) -> None:
    """Name ``holder`` the process holding the call (none named: left as it is)."""
    if holder is None:
        return
    row = session.get(CallHolder, call_id, populate_existing=True)
    if row is None:
        session.add(CallHolder(call_id=call_id, node=holder.node, instance=holder.instance))
    else:
        row.node, row.instance = holder.node, holder.instance


def held_elsewhere(session: Session, call_id: str, node: str, present: Collection[str]) -> str | None:
    """The node, other than ``node``, that holds call ``call_id`` live while its presence on the
    floor is current (it is in ``present``); None when the call is not live, is held by ``node``
    or by none named, or its holder has left the floor (a dead node's call, taken over)."""
    call = session.get(Call, call_id, populate_existing=True)
    return None if call is None else _other_holder(session, call, node, present)


def _other_holder(session: Session, call: Call, node: str, present: Collection[str]) -> str | None:
    live = call.status is CallStatus.LIVE
    held = session.get(CallHolder, call.id, populate_existing=True) if live else None
    return None if held is None or held.node == node or held.node not in present else held.node


def refuse_held_elsewhere(session: Session, call_id: str, node: str, present: Collection[str]) -> None:
    """:class:`ConflictError` when :func:`held_elsewhere` names a node."""
    _refuse(call_id, held_elsewhere(session, call_id, node, present))


def _refuse(call_id: str, other: str | None) -> None:
    if other is not None:
        raise ConflictError(
            f"call {call_id!r} is live on node {other!r}: it can go on here once that node has "
            "ended it or left the floor"
        )


def get_call(session: Session, call_id: str, *, lock: bool = False) -> Call:
    """The call (``lock``: read afresh under the row's lock, to decide about a live call)."""
    call = session.get(Call, call_id, with_for_update=lock, populate_existing=lock)
    if call is None:
        raise NotFoundError(f"call {call_id!r} not found")
    return call


def end_call(
    session: Session,
    call_id: str,
    *,
    ended_at: datetime | None = None,
    status: CallStatus = CallStatus.ENDED,
    instance: str = "",
) -> Call:
    """Mark a call ended (or aborted: the connection broke before a stop message). With
    ``instance`` (the process ending it), a live call is ended only while that process holds it
    (or none is named): one another process has resumed meanwhile goes on, and is returned live
    (its row read under a lock, as :func:`start_call` reads it for a resume)."""
    if status is CallStatus.LIVE:
        raise InvalidRecordError("end_call needs status ended or aborted")
    call = get_call(session, call_id, lock=bool(instance))
    if instance and call.status is CallStatus.LIVE:
        held = session.get(CallHolder, call_id, populate_existing=True)
        if held is not None and held.instance != instance:
            return call
    call.status, call.ended_at = status, as_utc(ended_at, "ended_at")
    return call


def raise_call_level(session: Session, call_id: str, level: WarningLevel) -> Call:
    """Raise the call's level to ``level`` if that is higher (it never goes down); red marks the
    call high-sensitivity."""
    call = get_call(session, call_id)
    level = WarningLevel(level)
    if level.rank > call.final_level.rank:
        call.final_level = level
    if level is WarningLevel.RED:
        call.high_sensitivity = True
    return call


def abort_live_calls(session: Session, *, at: datetime | None = None, node: str | None = None) -> list[str]:
    """Mark every call still live as aborted (at server start: their connections are gone); with
    ``node``, only those that node holds (a floor node's start: its previous process's, which it
    may have left out of the registry; the rows locked, as a resume reads them)."""
    stmt = select(Call).where(Call.status == CallStatus.LIVE).order_by(Call.id)
    if node is not None:
        held = select(CallHolder.call_id).where(CallHolder.node == node)
        stmt = stmt.where(Call.id.in_(held)).with_for_update(of=Call)
        stmt = stmt.execution_options(populate_existing=True)
    calls = list(session.scalars(stmt))
    when = as_utc(at)
    for call in calls:
        call.status, call.ended_at = CallStatus.ABORTED, when
    return [c.id for c in calls]


#: what :func:`abort_call` did: marked the call aborted, found it no longer live (ended, or marked
#: aborted before), or found it live and held by another process (resumed there)
AbortOutcome = Literal["aborted", "not_live", "resumed"]


def abort_call(
    session: Session, call_id: str, *, at: datetime | None = None, instance: str = ""
) -> AbortOutcome:
    """Mark one call aborted if it is still live (its node died) and, with ``instance``, still held
    by that process (or by none named: stored before revision 0018); its row read under a lock,
    as :func:`start_call` reads it for a resume."""
    call = session.get(Call, call_id, with_for_update=True, populate_existing=True)
    if call is None or call.status is not CallStatus.LIVE:
        return "not_live"
    held = session.get(CallHolder, call_id, populate_existing=True) if instance else None
    if held is not None and held.instance != instance:
        return "resumed"
    call.status, call.ended_at = CallStatus.ABORTED, as_utc(at)
    return "aborted"


def list_calls(
    session: Session,
    *,
    status: CallStatus | Collection[CallStatus] | None = None,
    agent_ids: Collection[str] | None = None,
    team: str | None = None,
    levels: Collection[WarningLevel] | None = None,
    high_sensitivity: bool | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Call]:
    """Calls matching every given filter, newest first.

    ``agent_ids`` restricts to those agents (an agent user: their own id); ``team`` to the agents
    of a team (a supervisor); ``since``/``until`` bound ``started_at`` (until exclusive).
    """
    stmt = select(Call).order_by(Call.started_at.desc(), Call.id).limit(limit).offset(offset)
    if status is not None:
        statuses = [status] if isinstance(status, CallStatus) else list(status)
        stmt = stmt.where(Call.status.in_(statuses))
    if agent_ids is not None:
        stmt = stmt.where(Call.agent_id.in_(list(agent_ids)))
    if team is not None:
        stmt = stmt.where(Call.agent_id.in_(select(Agent.id).where(Agent.team == team)))
    if levels is not None:
        stmt = stmt.where(Call.final_level.in_(list(levels)))
    if high_sensitivity is not None:
        stmt = stmt.where(Call.high_sensitivity == high_sensitivity)
    if since is not None:
        stmt = stmt.where(Call.started_at >= as_utc(since, "since"))
    if until is not None:
        stmt = stmt.where(Call.started_at < as_utc(until, "until"))
    return list(session.scalars(stmt))


@dataclass(frozen=True, slots=True)
class DebtorCall:
    """One stored call of a debtor, as the frequency rule counts it."""

    call: Call
    #: the debtor answered the agent (see :func:`debtor_calls_since`)
    conversation: bool
    #: the debt the call was about: the one it came with, else the call's debtor id
    debt_id: str
    #: made with the person's direct prior consent (not counted)
    consented: bool


def debtor_calls_since(
    session: Session,
    debtor_id: str | None,
    since: datetime,
    *,
    besides: str,
    debt_id: str | None = None,
    phone_key: str | None = None,
) -> list[DebtorCall]:
    """Other calls to ``debtor_id`` started at or after ``since``, oldest first, each with whether
    it had a conversation, its debt and its consent: the call history the frequency rule
    (Regulation F 1006.14(b)(2)) counts. A call stored without a debt id is about the debt its
    debtor id stands for, and without consent (as every call was before revision 0014). Without a
    ``debtor_id`` (a start message that named the debt only): the other calls about ``debt_id``;
    without either (it gave a phone number only): the other calls to the number ``phone_key``
    (:func:`_whose`).

    A conversation is the debtor answering the agent: a final utterance of the debtor leg that
    starts after a final utterance of the agent leg began. Speech on the debtor leg before the
    agent ever spoke is not one: a voicemail greeting the agent then leaves a message on is a call
    placed, not a telephone conversation (the 7 days after a conversation do not start). Nor is a
    call in which the person who answered said they are not the debtor (a confirmed hit of the
    ``wrong_party`` category: a wrong number, a relative): it was not a conversation with the debtor."""
    said, reply = aliased(Utterance), aliased(Utterance)
    agent_spoke_first = (
        select(said.id)
        .where(
            said.call_id == Call.id,
            said.leg == Leg.AGENT,
            said.final.is_(True),
            said.start_s < reply.start_s,
        )
        .exists()
    )
    answered = (
        select(reply.id)
        .where(reply.call_id == Call.id, reply.leg == Leg.DEBTOR, reply.final.is_(True), agent_spoke_first)
        .exists()
    )
    wrong_party = (
        select(RuleHitRow.id)
        .where(
            RuleHitRow.call_id == Call.id,
            RuleHitRow.category == WRONG_PARTY,
            RuleHitRow.status == HitStatus.CONFIRMED,
        )
        .exists()
    )
    whose = _whose(debtor_id, debt_id, phone_key)
    stmt = (
        select(Call, answered & ~wrong_party, CallDebt.debt_id, CallDebt.consented)
        .outerjoin(CallDebt, CallDebt.call_id == Call.id)
        .where(whose, Call.id != besides, Call.started_at >= as_utc(since, "since"))
        .order_by(Call.started_at, Call.id)
    )
    return [
        DebtorCall(call, bool(conversation), debt or call.debtor_id or call.id, bool(consented))
        for call, conversation, debt, consented in session.execute(stmt)
    ]


def _whose(debtor_id: str | None, debt_id: str | None, phone_key: str | None) -> ColumnElement[bool]:
    """The calls to ``debtor_id``, or without one the calls about ``debt_id`` (``calls`` outer-joined
    with ``call_debts``), or without either the calls to the number keyed ``phone_key`` (a
    :func:`call_phone_key`; every such call, whatever debtor or debt it named)."""
    if debtor_id is not None:
        return Call.debtor_id == debtor_id
    if debt_id is not None:
        return CallDebt.debt_id == debt_id
    if phone_key is None:
        raise ValueError("a debtor id, a debt id or a phone number is needed to find a debtor's calls")
    return Call.id.in_(select(CallPhone.call_id).where(CallPhone.phone_key == phone_key))


def call_debt(session: Session, call_id: str) -> tuple[str | None, bool]:
    """The debt the call came with (``None``: its debtor id stands for it) and whether it was made
    with the debtor's prior consent."""
    row = session.scalar(select(CallDebt).where(CallDebt.call_id == call_id))
    return (None, False) if row is None else (row.debt_id, bool(row.consented))


def debtor_time_zones(
    session: Session,
    debtor_id: str | None,
    *,
    besides: str,
    debt_id: str | None = None,
    phone_key: str | None = None,
) -> list[str]:
    """The time zones given with the other stored calls to ``debtor_id`` (without one: about
    ``debt_id``; without either: to the number keyed ``phone_key``), the latest call's first, each
    once (where a call comes without one, the places the debtor may be in)."""
    latest = func.max(Call.started_at)
    stmt = (
        select(Call.debtor_tz)
        .outerjoin(CallDebt, CallDebt.call_id == Call.id)
        .where(_whose(debtor_id, debt_id, phone_key), Call.id != besides, Call.debtor_tz.is_not(None))
        .group_by(Call.debtor_tz)
        .order_by(latest.desc(), Call.debtor_tz)
    )
    found = [zone for stored in session.scalars(stmt) for zone in stored_zones(stored)]
    return list(dict.fromkeys(found))


def stored_zones(debtor_tz: str | None) -> tuple[str, ...]:
    """A stored call's ``debtor_tz`` as its zones (a call may list several, joined by commas); an
    unreadable one (stored by an older version) as none."""
    try:
        return debtor_zones(debtor_tz) if debtor_tz else ()
    except ValueError:
        return ()
