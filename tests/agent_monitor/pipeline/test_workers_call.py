"""A live call through the unchanged pipeline with its speech in a worker process (``server.workers``):
the real call with the synthetic false-arrest threat warns the agent, raises red and stores its
transcripts, exactly as with in-process recognition (``test_call_session.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from agent_monitor.compose import assemble
from agent_monitor.model.audio import Leg
from agent_monitor.model.events import AgentWarning, AlertRaised, TranscriptEvent
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.session import CallInfo
from agent_monitor.model.stages import Stages
from agent_monitor.pipeline import CallManager
from agent_monitor.settings import Settings
from agent_monitor.storage import Database, repo
from agent_monitor.workers.pool import WorkerPool
from qa_rules import LiveRules, RuleSet
from tests.agent_monitor.pipeline.conftest import CallAudio, EventsOf, Push, Subscribe


@pytest.fixture(scope="module")
def stages(base_settings: Settings, ruleset: RuleSet) -> Iterator[Stages]:
    """This module's stages: recognition in one worker process (overrides the in-process ones)."""
    asr = base_settings.asr.model_copy(update={"spare_recognizers": 2})
    pool = WorkerPool.start(base_settings.model_copy(update={"asr": asr}), 1)
    yield assemble(base_settings, pool, LiveRules(ruleset, base_settings.rules))
    pool.close()


@pytest.mark.asyncio
async def test_violation_call_with_speech_in_a_worker_process(
    manager: CallManager,
    violation_call: CallAudio,
    push: Push,
    subscribe: Subscribe,
    events_of: EventsOf,
    database: Database,
    stages: Stages,
) -> None:
    assert isinstance(stages.transcribers, WorkerPool)
    sub = subscribe()
    info = CallInfo(
        call_id="call-w",
        agent_id="agent-7",
        debtor_id="d-1",
        sample_rate=8000,
        encoding="L16",
        source="ws-ingest",
        started_at=datetime(2025, 3, 3, 15, 0, tzinfo=UTC),
    )
    session = await manager.start_call(info)
    await push(session, violation_call, seconds=8.0)  # the threat is at 0.5-3.8 s
    await session.stop("stop")
    events = events_of(sub)

    warnings = [e for e in events if isinstance(e, AgentWarning)]
    assert [w.rule for w in warnings] == ["EN-FALSE-1"] and 2.0 < warnings[0].t < 5.0
    alert = next(e for e in events if isinstance(e, AlertRaised))
    assert alert.level is WarningLevel.RED and events.index(warnings[0]) < events.index(alert)
    finals = [e.transcript for e in events if isinstance(e, TranscriptEvent) and e.transcript.final]
    assert any("arrested" in t.text for t in finals if t.leg is Leg.AGENT)
    with database.session() as s:
        assert len(repo.list_utterances(s, "call-w", final_only=True)) == len(finals)
    assert [w.legs for w in stages.transcribers.workers] == [0]  # both legs released
