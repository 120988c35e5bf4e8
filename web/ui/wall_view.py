"""The supervisor wall's JSON: a live call's tile and its alerts with their hand-off state (who has
it, whether it was escalated), built from stored rows."""

from __future__ import annotations

from typing import Any

from agent_monitor.errors import NotFoundError
from agent_monitor.storage import AlertState, CallStatus, repo
from web.ui.serialize import alert_json, call_json, health_json, stress_json, utterance_json

OPEN_STATES = (AlertState.RAISED, AlertState.ACKNOWLEDGED)
#: how much of a live call's history a tile gets
TILE_UTTERANCES = 30
TILE_STRESS = 60


def alert_view(alert: Any, handoff: Any | None, agent_id: str, masked: bool) -> dict[str, Any]:
    """An alert as the wall shows it: its state, who owns it, and its hand-off if it has one."""
    taken_by = handoff.taken_over_by if handoff is not None else None
    return {
        **alert_json(alert, masked),
        "agent_id": agent_id,
        "handoff": handoff is not None,
        "taken_over_by": taken_by,
        "escalated": handoff is not None and handoff.escalated_at is not None,
        "owner": taken_by or alert.acknowledged_by,
    }


def _team(s: Any, agent_id: str) -> str | None:
    try:
        return repo.get_agent(s, agent_id).team
    except NotFoundError:
        return None


def tile_json(s: Any, call: Any, level: str, masked: bool) -> dict[str, Any]:
    """A call's tile: the call, its agent's team, recent transcript and stress, open alerts (with
    their hand-offs), signal health, the hand-offs still waiting for someone, the last alert's time."""
    handoffs = {h.alert_id: h for h in repo.list_handoffs(s, open_only=False, call_id=call.id)}
    alerts = repo.list_alerts(s, call_id=call.id)
    views = [alert_view(a, handoffs.get(a.id), call.agent_id, masked) for a in alerts]
    waiting = [
        {
            "alert_id": h.alert_id,
            "call_id": call.id,
            "agent_id": call.agent_id,
            "escalated": h.escalated_at is not None,
        }
        for h in handoffs.values()
        if h.acknowledged_by is None and h.taken_over_by is None and _open(alerts, h.alert_id)
    ]
    return {
        "call": call_json(call, masked),
        "team": _team(s, call.agent_id),
        "level": level,
        "live": call.status == CallStatus.LIVE,
        "utterances": [
            utterance_json(u, masked) for u in repo.list_utterances(s, call.id)[-TILE_UTTERANCES:]
        ],
        "stress": [stress_json(x) for x in repo.stress_timeline(s, call.id)[-TILE_STRESS:]],
        "alerts": [v for v in views if v["state"] in OPEN_STATES],
        "last_alert_at": views[-1]["raised_at"] if views else None,
        "health": [health_json(h) for h in repo.list_signal_health(s, call.id)],
        "handoffs": waiting,
    }


def _open(alerts: list[Any], alert_id: int) -> bool:
    return any(a.id == alert_id and a.state in OPEN_STATES for a in alerts)
