"""A live call whose audio stops arriving, its connection open, is heard as silence: before, health
was judged only on audio that arrived, so a stalled stream (or a client that never sent a frame)
left the call live with no event at all. Real call sessions, real Vosk model, real SQLite, the real
call MUL1011 of the shared data; the watch's clock is the real one (silence counts after 2 s here)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from agent_monitor.model.audio import Leg
from agent_monitor.model.events import SignalHealth
from agent_monitor.model.health import HealthIssue
from agent_monitor.pipeline import CallManager
from agent_monitor.settings import Settings
from agent_monitor.storage import Database, repo
from tests.agent_monitor.pipeline.conftest import CallAudio, EventsOf, Push, Subscribe
from tests.agent_monitor.pipeline.test_session_health import info

SILENT_S = 2.0


@pytest.fixture()
def live_settings(live_settings: Settings) -> Settings:
    health = live_settings.health.model_copy(update={"silent_s": SILENT_S})
    return live_settings.model_copy(update={"health": health})


def silent_issues(events: list[object]) -> list[tuple[Leg, bool]]:
    return [
        (e.health.leg, e.health.active)
        for e in events
        if isinstance(e, SignalHealth) and e.health.issue is HealthIssue.SILENT
    ]


@pytest.mark.asyncio
async def test_a_stream_that_stalls_is_silence_on_both_legs_until_audio_returns(
    manager: CallManager,
    clean_call: CallAudio,
    push: Push,
    subscribe: Subscribe,
    events_of: EventsOf,
    database: Database,
) -> None:
    sub = subscribe()
    session = await manager.start_call(info("watch-stall"))
    await push(session, clean_call, seconds=1.0)  # the agent speaks from the start
    await asyncio.sleep(SILENT_S + 1.5)  # then nothing arrives, the connection still open
    stalled = silent_issues(events_of(sub))
    assert sorted(stalled) == [(Leg.AGENT, True), (Leg.DEBTOR, True)], stalled
    later = CallAudio(clean_call.agent[16000 * 5 :], clean_call.debtor[16000 * 5 :])
    await push(session, later, seconds=6.0)  # the stream comes back: speech clears the silence
    await session.stop("stop")
    assert (Leg.AGENT, False) in silent_issues(events_of(sub))
    with database.session() as s:
        stored = [(r.leg, r.issue, r.active) for r in repo.list_signal_health(s, "watch-stall")]
    assert (Leg.AGENT, HealthIssue.SILENT, True) in stored and (
        Leg.DEBTOR,
        HealthIssue.SILENT,
        True,
    ) in stored


@pytest.mark.asyncio
async def test_a_client_that_never_sends_audio_is_silence(
    manager: CallManager, subscribe: Subscribe, events_of: EventsOf
) -> None:
    sub = subscribe()
    session = await manager.start_call(info("watch-none"))
    await asyncio.sleep(SILENT_S + 1.5)
    await session.stop("hangup")
    assert sorted(silent_issues(events_of(sub))) == [(Leg.AGENT, True), (Leg.DEBTOR, True)]


@pytest.mark.asyncio
async def test_file_analysis_is_not_watched(
    manager: CallManager, subscribe: Subscribe, events_of: EventsOf
) -> None:
    """A file is pushed as fast as recognition takes it: a pause there is no stalled stream."""
    sub = subscribe()
    session = await manager.start_call(replace(info("watch-file"), source="file"))
    await asyncio.sleep(SILENT_S + 1.5)
    await session.stop("end of file")
    assert silent_issues(events_of(sub)) == []
