"""The in-process event bus: delivery, filters and the overflow policy (alerts never dropped)."""

from __future__ import annotations

import asyncio

import pytest

from agent_monitor.model.audio import Leg
from agent_monitor.model.events import EVENT_TYPES, AlertRaised, AudioDropped, SignalHealth, TranscriptEvent
from agent_monitor.model.health import HealthIssue, LegHealth
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.session import LevelReason
from agent_monitor.model.transcript import Transcript
from agent_monitor.pipeline import InProcessEventBus


def _partial(i: int) -> TranscriptEvent:
    tr = Transcript(leg=Leg.AGENT, utterance=0, start=0.0, end=float(i), text=f"w{i}", final=False)
    return TranscriptEvent(call_id="c1", t=float(i), transcript=tr)


def _alert(i: int) -> AlertRaised:
    reason = LevelReason(kind="rule", level=WarningLevel.RED, text="x", t=float(i))
    return AlertRaised(
        call_id="c1", t=float(i), alert_id=i, level=WarningLevel.RED, reasons=(reason,), agent_id="a1"
    )


@pytest.mark.asyncio
async def test_slow_subscriber_loses_oldest_partials_never_alerts() -> None:
    bus = InProcessEventBus(maxsize=5)
    sub = bus.subscribe()
    for i in range(20):
        await bus.publish(_partial(i))
        if i % 4 == 0:
            await bus.publish(_alert(i))
    got = [sub.get_nowait() for _ in range(sub.pending)]
    alerts = [e for e in got if isinstance(e, AlertRaised)]
    assert [a.alert_id for a in alerts] == [0, 4, 8, 12, 16]  # every alert, in order
    partials = [e for e in got if isinstance(e, TranscriptEvent)]
    assert partials and partials[-1].t == 19.0  # the newest partial survives
    assert sub.dropped == 20 - len(partials) > 0


@pytest.mark.asyncio
async def test_filter_iteration_and_close() -> None:
    bus = InProcessEventBus()
    sub = bus.subscribe(lambda e: e.critical)
    other = bus.subscribe(lambda e: e.call_id == "nope")
    await bus.publish(_partial(1))
    await bus.publish(_alert(2))
    await bus.publish(AudioDropped(call_id="c1", t=3.0, leg=Leg.DEBTOR, chunks=1, seconds=0.1))

    async def reader() -> list[int | None]:
        return [e.alert_id async for e in sub if isinstance(e, AlertRaised)]

    task = asyncio.create_task(reader())
    await asyncio.sleep(0)
    sub.close()
    assert await task == [2]
    assert other.pending == 0
    assert bus.subscribers == 1
    other.close()
    assert bus.subscribers == 0


def test_events_serialise_to_json_with_their_type() -> None:
    import json

    d = _alert(7).to_dict()
    assert d["type"] == "alert_raised" and d["level"] == "red" and d["reasons"][0]["kind"] == "rule"
    json.dumps(d)
    assert json.loads(json.dumps(_partial(1).to_dict()))["text"] == "w1"
    assert len(EVENT_TYPES) == 16  # with the agent's checklist of required disclosures
    health = SignalHealth(
        call_id="c1",
        t=45.0,
        health=LegHealth(
            Leg.DEBTOR, HealthIssue.SILENT, True, "debtor leg silent for 45 s", {"silent_s": 45.0}
        ),
    )
    assert SignalHealth.critical and EVENT_TYPES["signal_health"] is SignalHealth
    assert json.loads(json.dumps(health.to_dict())) == {
        "type": "signal_health",
        "call_id": "c1",
        "t": 45.0,
        "health": {
            "leg": "debtor",
            "issue": "silent",
            "active": True,
            "message": "debtor leg silent for 45 s",
            "figures": {"silent_s": 45.0},
        },
    }
