"""The life of an alert: which steps are allowed, what each step changes, and the check that the
stored state of every alert and handoff is what its hash-chained events say.

The same :func:`check_step` / :func:`apply_step` pair is used when a step is recorded
(:mod:`agent_monitor.storage.repo.alerts`) and when the events are replayed to verify, so the two
cannot drift apart.

Steps: ``acknowledged`` (from raised; also acknowledges the handoff), ``resolved`` (from raised
or acknowledged), ``handoff_requested`` (once, not on a resolved alert), ``escalated`` (once, only
while the alert is still raised, i.e. nobody acknowledged it), ``taken_over`` (once, on an
acknowledged alert with a handoff; and only while the call is live, which
:func:`agent_monitor.storage.repo.take_over` checks when it records the step: a replay cannot know
the call's status at the time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from agent_monitor.errors import InvalidTransitionError
from agent_monitor.storage.chain import ChainReport
from agent_monitor.storage.enums import AlertAction, AlertState
from agent_monitor.storage.tables import Alert, AlertEvent, Handoff

#: alert columns that are a copy of what the events say
ALERT_DERIVED = ("state", "acknowledged_by", "acknowledged_at", "resolved_by", "resolved_at")
#: handoff columns that are a copy of what the events say
HANDOFF_DERIVED = (
    "requested_at",
    "escalated_at",
    "acknowledged_by",
    "acknowledged_at",
    "taken_over_by",
    "taken_over_at",
)


@dataclass
class _AlertView:
    state: AlertState = AlertState.RAISED
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None


@dataclass
class _HandoffView:
    requested_at: datetime | None = None
    escalated_at: datetime | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    taken_over_by: str | None = None
    taken_over_at: datetime | None = None


def check_step(alert_id: int, state: AlertState, handoff: Any | None, action: AlertAction) -> None:
    """Raise :class:`InvalidTransitionError` unless ``action`` is allowed now."""
    problem: str | None = None
    if action is AlertAction.ACKNOWLEDGED and state is not AlertState.RAISED:
        problem = f"it is already {state.value}"
    elif action is AlertAction.RESOLVED and state is AlertState.RESOLVED:
        problem = "it is already resolved"
    elif action is AlertAction.HANDOFF_REQUESTED:
        if handoff is not None:
            problem = "a handoff was already requested"
        elif state is AlertState.RESOLVED:
            problem = "it is resolved"
    elif action is AlertAction.ESCALATED:
        if handoff is None:
            problem = "no handoff was requested"
        elif state is not AlertState.RAISED:
            problem = f"it is already {state.value}"
        elif handoff.escalated_at is not None:
            problem = "it was already escalated"
    elif action is AlertAction.TAKEN_OVER:
        if handoff is None:
            problem = "no handoff was requested"
        elif state is not AlertState.ACKNOWLEDGED:
            problem = f"it is {state.value}, not acknowledged"
        elif handoff.taken_over_by is not None:
            problem = f"{handoff.taken_over_by} already took it over"
    if problem:
        raise InvalidTransitionError(f"alert {alert_id}: cannot record {action.value}: {problem}")


def apply_step(alert: Any, handoff: Any | None, action: AlertAction, actor: str, at: datetime) -> None:
    """Change ``alert`` (and ``handoff``) as ``action`` by ``actor`` at ``at`` says."""
    if action is AlertAction.ACKNOWLEDGED:
        alert.state = AlertState.ACKNOWLEDGED
        alert.acknowledged_by, alert.acknowledged_at = actor, at
        if handoff is not None and handoff.acknowledged_by is None:
            handoff.acknowledged_by, handoff.acknowledged_at = actor, at
    elif action is AlertAction.RESOLVED:
        alert.state = AlertState.RESOLVED
        alert.resolved_by, alert.resolved_at = actor, at
    elif action is AlertAction.HANDOFF_REQUESTED:
        if handoff is not None:
            handoff.requested_at = at
    elif action is AlertAction.ESCALATED:
        if handoff is not None:
            handoff.escalated_at = at
    elif action is AlertAction.TAKEN_OVER and handoff is not None:
        handoff.taken_over_by, handoff.taken_over_at = actor, at


def verify_alert_states(session: Session) -> ChainReport:
    """Replay every alert's events and compare with the stored alert and handoff columns."""
    alerts: dict[int, _AlertView] = {}
    handoffs: dict[int, _HandoffView] = {}
    problems: list[str] = []
    events = AlertEvent.__table__
    for event in session.execute(_stream(select(events).order_by(events.c.id))).mappings():
        alert_id, action = int(event["alert_id"]), AlertAction(event["action"])
        view = alerts.setdefault(alert_id, _AlertView())
        hview = handoffs.get(alert_id)
        try:
            check_step(alert_id, view.state, hview, action)
        except InvalidTransitionError as exc:
            problems.append(f"alert_events: row {event['id']}: {exc}")
        if action is AlertAction.HANDOFF_REQUESTED and hview is None:
            hview = handoffs[alert_id] = _HandoffView()
        apply_step(view, hview, action, event["actor"], event["at"])
    n = 0
    table = Alert.__table__
    for alert in session.execute(_stream(select(table).order_by(table.c.id))).mappings():
        n += 1
        view = alerts.get(int(alert["id"]), _AlertView())
        for col in ALERT_DERIVED:
            if alert[col] != getattr(view, col):
                problems.append(
                    f"alerts: row {alert['id']}: {col} is {alert[col]!r} but its events say"
                    f" {getattr(view, col)!r}"
                )
    seen: set[int] = set()
    table = Handoff.__table__
    for handoff in session.execute(_stream(select(table).order_by(table.c.id))).mappings():
        alert_id = int(handoff["alert_id"])
        seen.add(alert_id)
        hview = handoffs.get(alert_id)
        if hview is None:
            problems.append(f"handoffs: row {handoff['id']}: alert {alert_id} has no handoff event")
            continue
        for col in HANDOFF_DERIVED:
            if handoff[col] != getattr(hview, col):
                problems.append(
                    f"handoffs: row {handoff['id']}: {col} is {handoff[col]!r} but the events"
                    f" say {getattr(hview, col)!r}"
                )
    for alert_id in sorted(set(handoffs) - seen):
        problems.append(f"handoffs: the handoff of alert {alert_id} is missing (deleted)")
    return ChainReport("alert_states", n, 0, "", tuple(problems))


def call_alert_states(session: Session, call_id: str, problems: list[str]) -> None:
    """:func:`verify_alert_states` for the alerts of one call (the evidence export); adds to
    ``problems``."""
    table, events = Alert.__table__, AlertEvent.__table__
    alerts = {
        int(a["id"]): a for a in session.execute(select(table).where(table.c.call_id == call_id)).mappings()
    }
    views: dict[int, _AlertView] = {alert_id: _AlertView() for alert_id in alerts}
    handoffs: dict[int, _HandoffView] = {}
    stmt = select(events).where(events.c.alert_id.in_(list(alerts))).order_by(events.c.id)
    for event in session.execute(stmt).mappings():
        alert_id, action = int(event["alert_id"]), AlertAction(event["action"])
        hview = handoffs.get(alert_id)
        try:
            check_step(alert_id, views[alert_id].state, hview, action)
        except InvalidTransitionError as exc:
            problems.append(f"alert_events: row {event['id']}: {exc}")
        if action is AlertAction.HANDOFF_REQUESTED and hview is None:
            hview = handoffs[alert_id] = _HandoffView()
        apply_step(views[alert_id], hview, action, event["actor"], event["at"])
    for alert_id, alert in sorted(alerts.items()):
        for col in ALERT_DERIVED:
            if alert[col] != getattr(views[alert_id], col):
                problems.append(f"alerts: row {alert_id}: {col} is not what its events say")
    stmt = select(Handoff.__table__).where(Handoff.__table__.c.alert_id.in_(list(alerts)))
    for handoff in session.execute(stmt).mappings():
        hview = handoffs.pop(int(handoff["alert_id"]), None)
        if hview is None or any(handoff[col] != getattr(hview, col) for col in HANDOFF_DERIVED):
            problems.append(
                f"handoffs: row {handoff['id']} is not what alert {handoff['alert_id']}'s events say"
            )
    problems.extend(f"handoffs: the handoff of alert {a} is missing (deleted)" for a in sorted(handoffs))


def _stream(stmt: Select[Any]) -> Select[Any]:
    return stmt.execution_options(yield_per=1000)
