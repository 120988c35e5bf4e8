"""Call sessions end to end with the real Vosk model, real call audio and a real SQLite database.

Scenario audio: the real stereo call MUL1011 (first 24 s) with a SYNTHETIC scripted violation
(espeak-ng: "you are a stupid deadbeat, we will have you arrested") on the agent leg at 0.5 s.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest

from agent_monitor.audio.g711 import mulaw_decode, mulaw_encode
from agent_monitor.errors import SessionClosedError
from agent_monitor.model.audio import Leg
from agent_monitor.model.events import (
    AgentWarning,
    AlertRaised,
    AlertStored,
    AudioDropped,
    CallEnded,
    CallStarted,
    HandoffEscalated,
    HandoffRequested,
    LevelChanged,
    QaQueued,
    RuleHitEvent,
    TranscriptEvent,
)
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.rules import HitStatus
from agent_monitor.model.session import CallInfo
from agent_monitor.model.stages import Stages
from agent_monitor.pipeline import CallManager, InProcessEventBus, Subscription
from agent_monitor.settings import Settings
from agent_monitor.storage import AlertState, CallStatus, Database, repo
from agent_monitor.storage.recordings import read_recording
from asr.languages import LanguageModels
from tests.agent_monitor.pipeline.conftest import CallAudio, EventsOf, FakeClock, Push, Subscribe
from web.metrics import PrometheusMetrics


def info(call_id: str, **kw: object) -> CallInfo:
    base: dict[str, object] = {
        "call_id": call_id,
        "agent_id": "agent-7",
        "debtor_id": "d-1",
        "sample_rate": 8000,
        "encoding": "L16",
        "source": "ws-ingest",
        "started_at": datetime(2025, 3, 3, 15, 0, tzinfo=UTC),
    }
    base.update(kw)
    return CallInfo(**base)  # type: ignore[arg-type]


E = TypeVar("E")


def of(events: Sequence[object], kind: type[E]) -> list[E]:
    return [e for e in events if isinstance(e, kind)]


def stored_id(events: Sequence[object], alert: AlertRaised) -> int:
    """The stored id of ``alert``: on the alert itself when its row was written within
    ``alert_id_wait_s``, else on the :class:`AlertStored` with its key that follows (a loaded
    machine may take longer than the wait; both are the documented behaviour)."""
    later = [e for e in of(events, AlertStored) if e.alert_key == alert.alert_key]
    if alert.alert_id is not None:
        assert later == []  # announced once
        return alert.alert_id
    assert len(later) == 1 and events.index(alert) < events.index(later[0])
    return later[0].alert_id


@pytest.mark.asyncio
async def test_synthetic_violation_in_real_call_alerts_stores_and_records(
    manager: CallManager,
    violation_call: CallAudio,
    push: Push,
    subscribe: Subscribe,
    events_of: EventsOf,
    database: Database,
    live_settings: Settings,
) -> None:
    sub = subscribe()
    session = await manager.start_call(info("call-viol"))
    sent = await push(session, violation_call)
    await session.stop("stop")
    events = events_of(sub)

    assert isinstance(events[0], CallStarted) and isinstance(events[-1], CallEnded)
    warnings = of(events, AgentWarning)
    assert [w.rule for w in warnings] == ["EN-FALSE-1"]
    assert warnings[0].agent_id == "agent-7" and "not a crime" in (warnings[0].compliant or "")
    # the warning refers to the synthetic sentence at 0.5-3.8 s
    assert 2.0 < warnings[0].t < 5.0
    levels = of(events, LevelChanged)
    assert [lv.level for lv in levels] == [WarningLevel.RED]
    alert = of(events, AlertRaised)[0]
    assert alert.level is WarningLevel.RED and alert.high_sensitivity
    alert_id = stored_id(events, alert)
    assert of(events, HandoffRequested)[0].alert_id == alert_id
    assert of(events, QaQueued)[0].level is WarningLevel.RED
    hits = of(events, RuleHitEvent)
    assert {(h.hit.rule, h.status) for h in hits} >= {("EN-FALSE-1", HitStatus.CONFIRMED)}
    finals = [e.transcript for e in of(events, TranscriptEvent) if e.final]
    assert any("arrested" in t.text for t in finals if t.leg is Leg.AGENT)
    assert any(t.leg is Leg.DEBTOR for t in finals)
    assert events.index(warnings[0]) < events.index(alert)  # the agent hears first
    assert session.level is WarningLevel.RED and session.stats.dropped_chunks == 0

    with database.session() as s:
        call = repo.get_call(s, "call-viol")
        assert call.status is CallStatus.ENDED and call.ended_at is not None
        assert call.final_level is WarningLevel.RED and call.high_sensitivity
        rows = repo.list_rule_hits(s, "call-viol")
        false_arrest = [r for r in rows if r.rule_id == "EN-FALSE-1"]
        assert len(false_arrest) == 1 and false_arrest[0].status is HitStatus.CONFIRMED
        assert false_arrest[0].utterance_id is not None and false_arrest[0].start_s is not None
        utts = repo.list_utterances(s, "call-viol", final_only=True)
        assert len(utts) == len(finals)
        assert all(u.final for u in repo.list_utterances(s, "call-viol"))
        alerts = repo.list_alerts(s, call_id="call-viol")
        assert [a.id for a in alerts] == [alert_id] and alerts[0].reasons[0]["rule"] == "EN-FALSE-1"
        assert repo.get_handoff(s, alert_id) is not None
        assert repo.get_qa_item(s, "call-viol").level is WarningLevel.RED
        assert len(repo.stress_timeline(s, "call-viol")) >= 20  # one reading per second
        for leg, pcm in ((Leg.AGENT, violation_call.agent), (Leg.DEBTOR, violation_call.debtor)):
            rec = repo.require_recording(s, "call-viol", leg)
            audio = read_recording(Path(rec.path))
            assert audio.pcm == pcm[:sent] and audio.header_complete
            assert rec.sha256 == hashlib.sha256(Path(rec.path).read_bytes()).hexdigest()
            assert rec.closed_at is not None and rec.samples_written == sent // 2
    with pytest.raises(SessionClosedError):
        session.push_audio(Leg.AGENT, b"\0\0")
    assert manager.get("call-viol") is None


async def handoffs_requested(
    sub: Subscription, events_of: EventsOf, calls: set[str], timeout_s: float = 30.0
) -> dict[str, int]:
    """The alert ids of the handoffs of ``calls``, waited for: a handoff follows the alert row's
    write, which on a loaded machine may come after the pushed audio was recognised (the audio is
    pushed at most 2 s ahead of recognition, and nothing on the live path waits on the database)."""
    got: dict[str, int] = {}
    deadline = time.monotonic() + timeout_s
    while set(got) != calls:
        assert time.monotonic() < deadline, f"handoffs requested: {sorted(got)} of {sorted(calls)}"
        got |= {e.call_id: e.alert_id for e in events_of(sub) if isinstance(e, HandoffRequested)}
        await asyncio.sleep(0.02)
    return got


@pytest.mark.asyncio
async def test_red_handoff_escalates_after_n_seconds_unless_acknowledged(
    manager: CallManager,
    violation_call: CallAudio,
    push: Push,
    subscribe: Subscribe,
    events_of: EventsOf,
    clock: FakeClock,
    database: Database,
) -> None:
    """Fake clock (the only fake): escalation after settings.live.escalate_after_s = 30 s."""
    sub = subscribe(lambda e: isinstance(e, HandoffRequested | HandoffEscalated))
    first = await manager.start_call(info("call-esc"))
    await push(first, violation_call, seconds=6)
    second = await manager.start_call(info("call-ack"))
    await push(second, violation_call, seconds=6)
    requested = await handoffs_requested(sub, events_of, {"call-esc", "call-ack"})
    await manager.acknowledge_alert(requested["call-ack"], by="supervisor-1")

    await clock.advance(29.0)
    assert events_of(sub) == []
    await clock.advance(2.0)
    for _ in range(50):  # the escalation writes in a thread
        if manager.escalator.pending == []:
            break
        await clock.advance(0.0)
        await asyncio.sleep(0.02)
    escalated = events_of(sub)
    assert [(e.call_id, e.alert_id) for e in escalated] == [("call-esc", requested["call-esc"])]
    assert escalated[0].waited_s == 30.0
    await first.stop("stop")
    await second.stop("stop")
    with database.session() as s:
        esc = repo.get_handoff(s, requested["call-esc"])
        ack = repo.get_handoff(s, requested["call-ack"])
        assert esc is not None and esc.escalated_at is not None
        assert ack is not None and ack.escalated_at is None and ack.acknowledged_at is not None
        assert repo.get_alert(s, requested["call-ack"]).state is AlertState.ACKNOWLEDGED
        assert [e.action for e in repo.alert_events(s, requested["call-esc"])] == [
            "handoff_requested",
            "escalated",
        ]


@pytest.mark.asyncio
async def test_mulaw_call_alerts_and_recording_equals_decoded_audio(
    manager: CallManager,
    violation_call: CallAudio,
    subscribe: Subscribe,
    events_of: EventsOf,
    database: Database,
) -> None:
    import numpy as np

    sub = subscribe()
    session = await manager.start_call(info("call-ulaw", encoding="mulaw", source="twilio"))
    n = 8000 * 6
    legs = {
        Leg.AGENT: mulaw_encode(np.frombuffer(violation_call.agent[: 2 * n], "<i2")),
        Leg.DEBTOR: mulaw_encode(np.frombuffer(violation_call.debtor[: 2 * n], "<i2")),
    }
    for i in range(0, n, 160):  # 20 ms Twilio-sized frames
        for leg, data in legs.items():
            session.push_audio(leg, data[i : i + 160])
    await session.stop("stop")
    assert [w.rule for w in of(events_of(sub), AgentWarning)] == ["EN-FALSE-1"]
    with database.session() as s:
        for leg, data in legs.items():
            rec = repo.require_recording(s, "call-ulaw", leg)
            assert rec.sample_rate == 8000
            assert read_recording(Path(rec.path)).pcm == mulaw_decode(data).astype("<i2").tobytes()


@pytest.mark.asyncio
async def test_client_disconnect_mid_call_keeps_call_record_and_recording(
    manager: CallManager,
    models: LanguageModels,
    clean_call: CallAudio,
    push: Push,
    subscribe: Subscribe,
    events_of: EventsOf,
    database: Database,
) -> None:
    sub = subscribe(lambda e: isinstance(e, CallEnded))
    pool = models.pool("en")
    assert pool is not None
    spares = pool.spares
    manager.heap.delay_s = 0.0  # hand the heap back as soon as no call is live (default 30 s)
    session = await manager.start_call(info("call-kill"))
    sent = await push(session, clean_call, seconds=12)
    await session.stop("client disconnected")
    assert pool.spares == max(spares, 2)  # both legs' recognizers were reset and kept
    for _ in range(100):  # the last live call ended: the freed heap goes back (in a thread)
        if manager.heap.trims:
            break
        await asyncio.sleep(0.05)
    assert manager.heap.trims == 1
    ended = events_of(sub)
    assert len(ended) == 1 and ended[0].status == "aborted" and ended[0].reason == "client disconnected"
    assert ended[0].duration_s == pytest.approx(12.0)
    with database.session() as s:
        call = repo.get_call(s, "call-kill")
        assert call.status is CallStatus.ABORTED and call.ended_at is not None
        utts = repo.list_utterances(s, "call-kill", final_only=True)
        assert {u.leg for u in utts} == {Leg.AGENT, Leg.DEBTOR}
        assert any("looking for" in u.text for u in utts)  # the real agent at 10.5-12 s, cut off
        for leg, pcm in ((Leg.AGENT, clean_call.agent), (Leg.DEBTOR, clean_call.debtor)):
            rec = repo.require_recording(s, "call-kill", leg)
            assert read_recording(Path(rec.path)).pcm == pcm[:sent]
            assert rec.sha256 is not None


@pytest.mark.asyncio
async def test_audio_overflow_drops_with_counter_but_never_alerts(
    live_settings: Settings,
    stages: Stages,
    database: Database,
    bus: InProcessEventBus,
    clock: FakeClock,
    violation_call: CallAudio,
    push: Push,
    events_of: EventsOf,
) -> None:
    settings = live_settings.model_copy(
        update={"live": live_settings.live.model_copy(update={"leg_queue_s": 4.0})}
    )
    metrics = PrometheusMetrics()
    manager = CallManager(settings, stages, database, bus, clock=clock, metrics=metrics)
    slow = bus.subscribe(maxsize=3)  # never read until the end: a slow subscriber
    watcher = bus.subscribe(lambda e: isinstance(e, AudioDropped))
    session = await manager.start_call(info("call-flood"))
    sent = await push(session, violation_call, seconds=6)
    rest_a, rest_d = violation_call.agent[sent:], violation_call.debtor[sent:]
    for i in range(0, len(rest_a), 1600):  # 18 s pushed without giving the pipeline a turn
        session.push_audio(Leg.AGENT, rest_a[i : i + 1600])
        session.push_audio(Leg.DEBTOR, rest_d[i : i + 1600])
    stats = session.stats
    assert stats.legs[Leg.AGENT].dropped_chunks > 0 and stats.legs[Leg.AGENT].dropped_s > 10
    await session.stop("stop")
    await manager.shutdown()

    drops = events_of(watcher)
    assert drops and drops[-1].chunks == session.stats.legs[drops[-1].leg].dropped_chunks
    got = events_of(slow)
    assert slow.dropped > 0  # non-critical events (partials, stress) were shed...
    kinds = [type(e) for e in got]
    for kind in (CallStarted, AgentWarning, LevelChanged, AlertRaised, HandoffRequested, QaQueued, CallEnded):
        assert kind in kinds, kind  # ...but every critical one arrived
    ended = of(got, CallEnded)[0]
    assert ended.dropped_chunks == session.stats.dropped_chunks > 0
    assert ended.duration_s == pytest.approx(24.0)
    with database.session() as s:  # the recording still has everything that was sent
        rec = repo.require_recording(s, "call-flood", Leg.AGENT)
        assert read_recording(Path(rec.path)).pcm == violation_call.agent
    # the metrics counted the same drops, the lag of every batch, the alerts and the writes
    sample = metrics.registry.get_sample_value
    for leg, leg_stats in session.stats.legs.items():
        dropped = sample("agent_monitor_audio_dropped_seconds_total", {"leg": leg.value})
        assert dropped == pytest.approx(leg_stats.dropped_s)
        assert (sample("agent_monitor_recognition_lag_seconds_count", {"leg": leg.value}) or 0) > 0
    assert (sample("agent_monitor_audio_dropped_seconds_total", {"leg": "agent"}) or 0) > 10
    assert (sample("agent_monitor_alert_latency_seconds_count") or 0) >= 1
    assert (sample("agent_monitor_db_write_seconds_count") or 0) > 0


@pytest.mark.asyncio
async def test_resumed_call_appends_to_recording_and_numbers(
    live_settings: Settings,
    stages: Stages,
    database: Database,
    bus: InProcessEventBus,
    clock: FakeClock,
    clean_call: CallAudio,
    push: Push,
    events_of: EventsOf,
) -> None:
    """A server restart mid-call: the same call id is resumed, nothing stored is lost."""
    first = CallManager(live_settings, stages, database, bus, clock=clock)
    s1 = await first.start_call(info("call-resume"))
    half = await push(s1, clean_call, seconds=12)
    await first.shutdown()  # the "old server" goes away: the call is aborted, data kept
    second = CallManager(live_settings, stages, database, bus, clock=clock)
    sub = bus.subscribe(lambda e: isinstance(e, CallStarted | TranscriptEvent))
    s2 = await second.start_call(info("call-resume"))
    rest = type(clean_call)(clean_call.agent[half:], clean_call.debtor[half:])
    await push(s2, rest)
    await s2.stop("stop")
    await second.shutdown()
    events = events_of(sub)
    assert isinstance(events[0], CallStarted) and events[0].resumed
    later = [e.transcript for e in events if isinstance(e, TranscriptEvent) and e.final]
    assert later and min(t.start for t in later) >= 12.0 - 0.6  # call clock continues
    with database.session() as s:
        call = repo.get_call(s, "call-resume")
        assert call.status is CallStatus.ENDED
        rec = repo.require_recording(s, "call-resume", Leg.AGENT)
        assert read_recording(Path(rec.path)).pcm == clean_call.agent
        numbers = [(u.leg, u.utterance_no) for u in repo.list_utterances(s, "call-resume")]
        assert len(numbers) == len(set(numbers)) >= 5
