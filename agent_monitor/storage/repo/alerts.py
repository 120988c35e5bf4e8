"""Alerts and handoffs: raising, acknowledging, escalating, taking over and resolving.

Every step is appended to the hash-chained ``alert_events`` (and every alert to the chained
``alerts``) under the chain lock, so concurrent supervisors cannot both acknowledge one alert.
The lock is held until the transaction ends: commit right after these calls.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent_monitor.errors import InvalidRecordError, InvalidTransitionError, NotFoundError
from agent_monitor.model.levels import WarningLevel
from agent_monitor.storage import chain
from agent_monitor.storage.alert_state import apply_step, check_step
from agent_monitor.storage.enums import AlertAction, AlertState, CallStatus
from agent_monitor.storage.repo.calls import get_call, raise_call_level
from agent_monitor.storage.tables import Alert, AlertEvent, Call, Handoff
from agent_monitor.storage.types import as_utc

#: the actor of automatic steps (escalation by the timer)
SYSTEM_ACTOR = "system"


def raise_alert(
    session: Session,
    call_id: str,
    level: WarningLevel,
    reasons: Sequence[Any],
    *,
    raised_at_s: float,
    raised_at: datetime | None = None,
    handoff: bool = False,
) -> Alert:
    """Record an alert on a call (and raise the call's level). ``reasons`` is a JSON-able list
    (e.g. the rule hits and stress readings behind it). With ``handoff=True`` (red: a
    high-sensitivity call) a handoff to supervisors is requested at once."""
    level = WarningLevel(level)
    if level is WarningLevel.NONE:
        raise InvalidRecordError("an alert needs a level of yellow, orange or red")
    get_call(session, call_id)
    alert = Alert(
        call_id=call_id,
        level=level,
        reasons=list(reasons),
        raised_at_s=raised_at_s,
        raised_at=as_utc(raised_at, "raised_at"),
        state=AlertState.RAISED,
    )
    chain.append(session, alert)
    raise_call_level(session, call_id, level)
    if handoff:
        request_handoff(session, alert.id, at=alert.raised_at, at_s=raised_at_s)
    return alert


def get_alert(session: Session, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFoundError(f"alert {alert_id} not found")
    return alert


def get_handoff(session: Session, alert_id: int) -> Handoff | None:
    return session.scalars(select(Handoff).where(Handoff.alert_id == alert_id)).one_or_none()


def request_handoff(
    session: Session, alert_id: int, *, at: datetime | None = None, at_s: float | None = None
) -> Handoff:
    """Hand the alert's call to supervisors."""
    alert, handoff = _locked(session, alert_id, AlertAction.HANDOFF_REQUESTED)
    when = as_utc(at)
    handoff = Handoff(call_id=alert.call_id, alert_id=alert_id, requested_at=when)
    _record(session, alert, handoff, AlertAction.HANDOFF_REQUESTED, SYSTEM_ACTOR, when, at_s, None)
    session.add(handoff)
    session.flush()
    return handoff


def acknowledge_alert(
    session: Session, alert_id: int, by: str, *, at: datetime | None = None, note: str | None = None
) -> Alert:
    """A supervisor (or the agent, for their own warning) has seen the alert; stops escalation."""
    alert, handoff = _locked(session, alert_id, AlertAction.ACKNOWLEDGED)
    _record(session, alert, handoff, AlertAction.ACKNOWLEDGED, by, as_utc(at), None, note)
    return alert


def resolve_alert(
    session: Session, alert_id: int, by: str, *, at: datetime | None = None, note: str | None = None
) -> Alert:
    alert, handoff = _locked(session, alert_id, AlertAction.RESOLVED)
    _record(session, alert, handoff, AlertAction.RESOLVED, by, as_utc(at), None, note)
    return alert


def escalate_handoff(
    session: Session, alert_id: int, *, at: datetime | None = None, note: str | None = None
) -> Handoff:
    """Nobody acknowledged the handoff in time: record the escalation (by ``system``)."""
    alert, handoff = _locked(session, alert_id, AlertAction.ESCALATED)
    assert handoff is not None  # check_step guarantees it
    _record(session, alert, handoff, AlertAction.ESCALATED, SYSTEM_ACTOR, as_utc(at), None, note)
    return handoff


def escalate_if_due(
    session: Session, alert_id: int, *, at: datetime | None = None, note: str | None = None
) -> Handoff | None:
    """Escalate the alert's handoff if it is still due: its alert raised, nobody acknowledged it
    and it is not escalated yet; else ``None``. Decided under the event-chain lock, so of several
    callers (the timer of the node that raised the alert, the sweeps of every node of a floor)
    exactly one escalates it."""
    alert, handoff = _fresh(session, alert_id)
    if handoff is None or alert.state is not AlertState.RAISED:
        return None
    if handoff.acknowledged_at is not None or handoff.escalated_at is not None:
        return None
    _record(session, alert, handoff, AlertAction.ESCALATED, SYSTEM_ACTOR, as_utc(at), None, note)
    return handoff


def take_over(
    session: Session, alert_id: int, by: str, *, at: datetime | None = None, note: str | None = None
) -> Handoff:
    """A supervisor takes the call over; acknowledges the alert first if nobody had (decided
    under the lock: another supervisor may acknowledge it at the same moment). Only while the
    call is live: the stored status is the truth on every node of a floor (the call may be held by
    another node), and a call that ended has nothing to take over (:class:`InvalidTransitionError`,
    nothing recorded; acknowledging and resolving its alerts stay allowed)."""
    when = as_utc(at)
    alert, _ = _fresh(session, alert_id)
    call = session.get(Call, alert.call_id, populate_existing=True)
    if call is None or call.status is not CallStatus.LIVE:
        raise InvalidTransitionError(f"call {alert.call_id!r} has ended: there is nothing to take over")
    if alert.state is AlertState.RAISED:
        acknowledge_alert(session, alert_id, by, at=when)
    alert, handoff = _locked(session, alert_id, AlertAction.TAKEN_OVER)
    assert handoff is not None  # check_step guarantees it
    _record(session, alert, handoff, AlertAction.TAKEN_OVER, by, when, None, note)
    return handoff


def alert_events(session: Session, alert_id: int) -> list[AlertEvent]:
    """The alert's recorded steps in order."""
    stmt = select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)
    return list(session.scalars(stmt))


def list_alerts(
    session: Session,
    *,
    call_id: str | None = None,
    call_ids: Collection[str] | None = None,
    states: Collection[AlertState] | None = None,
    levels: Collection[WarningLevel] | None = None,
    since: datetime | None = None,
    limit: int = 200,
) -> list[Alert]:
    """Alerts matching every given filter, oldest first (``since`` bounds ``raised_at``)."""
    stmt = select(Alert).order_by(Alert.id).limit(limit)
    if call_id is not None:
        stmt = stmt.where(Alert.call_id == call_id)
    if call_ids is not None:
        stmt = stmt.where(Alert.call_id.in_(list(call_ids)))
    if states is not None:
        stmt = stmt.where(Alert.state.in_(list(states)))
    if levels is not None:
        stmt = stmt.where(Alert.level.in_(list(levels)))
    if since is not None:
        stmt = stmt.where(Alert.raised_at >= as_utc(since, "since"))
    return list(session.scalars(stmt))


def handoffs_due_for_escalation(
    session: Session, *, requested_before: datetime, requested_after: datetime | None = None
) -> list[Handoff]:
    """Handoffs requested before ``requested_before`` (and after ``requested_after``, if given)
    that nobody acknowledged and that are not escalated yet (the escalation sweep's query)."""
    stmt = (
        select(Handoff)
        .join(Alert, Alert.id == Handoff.alert_id)
        .where(
            Handoff.requested_at < as_utc(requested_before, "requested_before"),
            Handoff.escalated_at.is_(None),
            Handoff.acknowledged_at.is_(None),
            Alert.state == AlertState.RAISED,
        )
        .order_by(Handoff.requested_at)
    )
    if requested_after is not None:
        stmt = stmt.where(Handoff.requested_at >= as_utc(requested_after, "requested_after"))
    return list(session.scalars(stmt))


def list_handoffs(session: Session, *, open_only: bool = True, call_id: str | None = None) -> list[Handoff]:
    """Handoffs, oldest first; ``open_only``: not yet taken over and the alert not resolved;
    ``call_id``: of that call only."""
    stmt = select(Handoff).join(Alert, Alert.id == Handoff.alert_id).order_by(Handoff.requested_at)
    if call_id is not None:
        stmt = stmt.where(Handoff.call_id == call_id)
    if open_only:
        stmt = stmt.where(Handoff.taken_over_by.is_(None), Alert.state != AlertState.RESOLVED)
    return list(session.scalars(stmt))


def _locked(session: Session, alert_id: int, action: AlertAction) -> tuple[Alert, Handoff | None]:
    """Take the event-chain lock, then read the alert fresh and check ``action`` is allowed."""
    alert, handoff = _fresh(session, alert_id)
    check_step(alert_id, alert.state, handoff, action)
    return alert, handoff


def _fresh(session: Session, alert_id: int) -> tuple[Alert, Handoff | None]:
    """Take the event-chain lock, then read the alert and its handoff fresh."""
    chain.lock_chain(session, AlertEvent.__tablename__)
    alert = session.get(Alert, alert_id, populate_existing=True)
    if alert is None:
        raise NotFoundError(f"alert {alert_id} not found")
    handoff = session.scalars(
        select(Handoff).where(Handoff.alert_id == alert_id).execution_options(populate_existing=True)
    ).one_or_none()
    return alert, handoff


def _record(
    session: Session,
    alert: Alert,
    handoff: Handoff | None,
    action: AlertAction,
    actor: str,
    at: datetime,
    at_s: float | None,
    note: str | None,
) -> None:
    event = AlertEvent(alert_id=alert.id, action=action, actor=actor, at=at, at_s=at_s, note=note)
    chain.append(session, event)
    # the stored copy must equal what verification derives from the stored (normalised) event
    apply_step(alert, handoff, action, event.actor, event.at)
    session.flush()
