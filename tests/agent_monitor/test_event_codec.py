"""Events survive their JSON form exactly: ``event_from_dict(json(e.to_dict())) == e``."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from agent_monitor.errors import EventFormatError
from agent_monitor.model.audio import Leg
from agent_monitor.model.event_codec import event_from_dict
from agent_monitor.model.events import (
    EVENT_TYPES,
    AgentWarning,
    AlertRaised,
    AlertStateChanged,
    AlertStored,
    AudioDropped,
    CallEnded,
    CallStarted,
    DisclosureChecklist,
    Event,
    HandoffEscalated,
    HandoffRequested,
    LevelChanged,
    QaQueued,
    RuleHitEvent,
    SignalHealth,
    StressUpdate,
    TranscriptEvent,
)
from agent_monitor.model.health import HealthIssue, LegHealth
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.rules import DisclosureState, HitStatus, RequiredDisclosure, RuleHit, Severity
from agent_monitor.model.session import CallInfo, LevelReason
from agent_monitor.model.stress import BaselineStatus, StressLevel, StressSample
from agent_monitor.model.transcript import Transcript, Word

INFO = CallInfo(
    call_id="c-1",
    agent_id="a7",
    debtor_id="d9",
    debtor_phone="+15550100",
    debtor_tz="America/Chicago",
    lang="zh",
    source="audiosocket",
    sample_rate=16000,
    encoding="mulaw",
    started_at=datetime(2026, 12, 1, 18, 0, 1, 123456, tzinfo=UTC),
)
HIT = RuleHit(
    rule="threat_arrest",
    title="Threat of arrest",
    category="threat",
    severity=Severity.RED,
    leg=Leg.AGENT,
    span=(4, 19),
    evidence="you will be arrested",
    reason="FDCPA 807(4)",
    citation="15 U.S.C. 1692e(4)",
    compliant="We can discuss a payment plan.",
    utterance=3,
    start=12.25,
    end=13.5,
    probability=None,
)
REASON = LevelReason(
    kind="combo",
    level=WarningLevel.RED,
    text="threat while stressed",
    t=13.5,
    rule="threat_arrest",
    severity="red",
    leg=Leg.AGENT,
    hit_status="confirmed",
    stress_level="high",
    stress_score=81.25,
)

EXAMPLES: list[Event] = [
    CallStarted(call_id="c-1", t=0.0, info=INFO, resumed=True),
    CallEnded(
        call_id="c-1",
        t=61.5,
        status="aborted",
        reason="node died",
        level=WarningLevel.ORANGE,
        duration_s=61.5,
        dropped_chunks=3,
    ),
    TranscriptEvent(
        call_id="c-1",
        t=13.5,
        transcript=Transcript(
            leg=Leg.AGENT,
            utterance=3,
            start=12.0,
            end=13.5,
            text="you will be arrested",
            final=True,
            words=(Word("you", 12.0, 12.2, 0.9), Word("arrested", 12.9, 13.5, 0.75)),
            lang="en",
            speech_s=1.5,
        ),
    ),
    RuleHitEvent(call_id="c-1", t=13.5, status=HitStatus.CONFIRMED, hit=HIT, hit_id=17, hit_key="k-1"),
    RuleHitEvent(
        call_id="c-1",
        t=13.5,
        status=HitStatus.PROVISIONAL,
        hit=RuleHit("must_say", "Mini-Miranda", "disclosure", Severity.YELLOW, None, None, "", "r", "c"),
    ),
    StressUpdate(
        call_id="c-1",
        t=14.0,
        sample=StressSample(
            14.0, 55.5, StressLevel.ELEVATED, BaselineStatus.RELATIVE, None, 2.25, Leg.DEBTOR
        ),
    ),
    LevelChanged(
        call_id="c-1", t=13.5, level=WarningLevel.RED, previous=WarningLevel.YELLOW, reasons=(REASON,)
    ),
    AlertRaised(
        call_id="c-1",
        t=13.5,
        alert_id=None,
        level=WarningLevel.RED,
        reasons=(REASON, REASON),
        agent_id="a7",
        high_sensitivity=True,
        alert_key="uuid-1",
    ),
    AlertStored(call_id="c-1", t=13.5, alert_id=5, alert_key="uuid-1", agent_id="a7"),
    AgentWarning(
        call_id="c-1",
        t=13.5,
        agent_id="a7",
        rule="threat_arrest",
        title="Threat",
        severity="red",
        evidence="arrested",
        reason="r",
        compliant=None,
        hit_status=HitStatus.WITHDRAWN,
        citation="c",
    ),
    DisclosureChecklist(
        call_id="c-1",
        t=30.0,
        agent_id="a7",
        items=(
            RequiredDisclosure(
                "mini_miranda", "Mini-Miranda", "This is an attempt...", 30.0, DisclosureState.MISSED
            ),
            RequiredDisclosure("recording", "Recording notice", None, 15.0, DisclosureState.SAID),
        ),
    ),
    HandoffRequested(call_id="c-1", t=13.5, alert_id=5, agent_id="a7", escalate_after_s=60.0),
    HandoffEscalated(call_id="c-1", t=73.5, alert_id=5, agent_id="a7", waited_s=60.0),
    AlertStateChanged(call_id="c-1", t=20.0, alert_id=5, state="acknowledged", by="sup1", note="on it"),
    QaQueued(call_id="c-1", t=61.5, level=WarningLevel.ORANGE, reason="orange call"),
    AudioDropped(call_id="c-1", t=40.0, leg=Leg.DEBTOR, chunks=2, seconds=0.04),
    SignalHealth(
        call_id="c-1",
        t=45.0,
        health=LegHealth(
            Leg.DEBTOR, HealthIssue.SILENT, True, "debtor leg silent for 45 s", {"silent_s": 45.0}
        ),
    ),
]


def test_every_event_type_has_an_example() -> None:
    assert {e.type for e in EXAMPLES} == set(EVENT_TYPES)


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: e.type)
def test_round_trip_is_exact(event: Event) -> None:
    back = event_from_dict(json.loads(json.dumps(event.to_dict())))
    assert back == event
    assert type(back) is type(event)
    assert back.to_dict() == event.to_dict()


def test_whole_number_times_come_back_as_floats() -> None:
    back = event_from_dict(
        {
            "type": "alert_state",
            "call_id": "c",
            "t": 3,
            "alert_id": 1,
            "state": "resolved",
            "by": "s",
            "note": None,
        }
    )
    assert isinstance(back.t, float) and back.t == 3.0


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"type": "no_such_event", "call_id": "c", "t": 0.0},
        {"type": "qa_queued", "call_id": "c", "t": 0.0, "level": "purple", "reason": "r"},
        {"type": "qa_queued", "call_id": "c", "t": 0.0, "reason": "r"},
        {
            "type": "alert_stored",
            "call_id": "c",
            "t": 0.0,
            "alert_id": "5",
            "alert_key": "k",
            "agent_id": "a",
        },
        {"type": "call_started", "call_id": "c", "t": 0.0, "info": {"call_id": "c", "agent_id": ""}},
        {"type": "transcript", "call_id": "c", "t": 0.0, "leg": "agent"},
    ],
)
def test_malformed_input_is_a_clear_error(data: object) -> None:
    with pytest.raises(EventFormatError):
        event_from_dict(data)
