"""A call's stop that is cancelled half-way (the server shutting down while a connection that
has just ended is still draining its audio) still ends the call: its last audio is recognised
and stored, its recordings closed and its row ended, as the first stop asked. Real Vosk, the
real call MUL1011 and a real SQLite database."""

from __future__ import annotations

import asyncio

import pytest

from agent_monitor.model.audio import Leg
from agent_monitor.pipeline import CallManager
from agent_monitor.storage import CallStatus, Database, repo
from tests.agent_monitor.pipeline.conftest import CallAudio
from tests.agent_monitor.pipeline.test_call_session import info

BACKLOG_S = 8.0  # audio pushed at once: recognition is seconds behind when the stop starts


@pytest.mark.asyncio
async def test_a_stop_cancelled_while_draining_still_ends_the_call(
    manager: CallManager, database: Database, clean_call: CallAudio
) -> None:
    session = await manager.start_call(info("stop-cancelled"))
    end = int(BACKLOG_S * clean_call.rate) * 2
    step = int(0.1 * clean_call.rate) * 2
    for i in range(0, end, step):
        session.push_audio(Leg.AGENT, clean_call.agent[i : i + step])
        session.push_audio(Leg.DEBTOR, clean_call.debtor[i : i + step])
    stopping = asyncio.create_task(session.stop("hangup", status="ended"))
    while not session.closed:
        await asyncio.sleep(0)
    await asyncio.sleep(0.05)
    assert session.stats.lag_s > 1.0, "the stop has drained already: nothing to cancel"
    stopping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopping
    # what an ingest handler does when its task is cancelled (web/ingest/common.py)
    await asyncio.shield(session.stop("server shutdown", status="aborted"))
    with database.session() as s:
        call = repo.get_call(s, "stop-cancelled")
        assert call.status is CallStatus.ENDED and call.ended_at is not None
        for leg in Leg:
            assert repo.require_recording(s, "stop-cancelled", leg).sha256
        spoken = [u for u in repo.list_utterances(s, "stop-cancelled") if u.end_s > BACKLOG_S - 3.0]
    assert spoken, "the audio queued when the stop was cancelled was not recognised and stored"
