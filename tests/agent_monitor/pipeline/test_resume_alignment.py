"""Issue #15 item 5 (last part): a call resumed after one leg's recording fell behind (its writes
failed on a full disk, or the leg stopped earlier) continues both legs at the same call time."""

from __future__ import annotations

from dataclasses import replace

import pytest

from agent_monitor.errors import RecordingError
from agent_monitor.model.audio import Leg
from agent_monitor.model.session import CallInfo
from agent_monitor.pipeline import CallManager
from agent_monitor.storage import CallStatus, Database, repo


@pytest.mark.asyncio
async def test_resumed_legs_start_at_one_call_time(manager: CallManager) -> None:
    info = CallInfo(call_id="uneven", agent_id="A-1", sample_rate=8000)
    first = await manager.start_call(info)
    first.push_audio(Leg.AGENT, bytes(2 * 8000 * 3))  # 3 s on the agent leg
    first.push_audio(Leg.DEBTOR, bytes(2 * 8000 * 2 + 2 * 1600))  # 2.2 s on the debtor leg
    await first.stop("client disconnected")
    second = await manager.start_call(info)
    try:
        assert second.resumed
        assert second.recordings[Leg.AGENT].samples_written == 3 * 8000
        assert second.recordings[Leg.DEBTOR].samples_written == 3 * 8000
        assert second.legs[Leg.AGENT].t0 == second.legs[Leg.DEBTOR].t0 == pytest.approx(3.0)
    finally:
        await second.stop("stop")


@pytest.mark.asyncio
async def test_a_resume_its_recordings_refuse_leaves_the_stored_call_as_it_was(
    manager: CallManager, database: Database
) -> None:
    """A resume at another sample rate is refused before the call row is touched: the ended call
    stays ended (it used to be flipped back to live, with no session behind it), the refusal names
    the leg and not the server's file path, and the id can be resumed at its own rate afterwards."""
    info = CallInfo(call_id="rate-change", agent_id="A-1", sample_rate=8000)
    first = await manager.start_call(info)
    first.push_audio(Leg.AGENT, bytes(2 * 8000))
    first.push_audio(Leg.DEBTOR, bytes(2 * 8000))
    await first.stop("stop")
    with database.session() as s:
        before = repo.get_call(s, "rate-change")
        ended = (before.status, before.ended_at)
    assert ended[0] is CallStatus.ENDED and ended[1] is not None

    with pytest.raises(RecordingError) as refused:
        await manager.start_call(replace(info, sample_rate=16000))
    message = "the agent leg's recording cannot go on: cannot resume a recording at 8000 Hz as 16000 Hz"
    assert str(refused.value) == message
    with database.session() as s:
        after = repo.get_call(s, "rate-change")
        assert (after.status, after.ended_at) == ended
    assert manager.live_calls() == []

    again = await manager.start_call(info)
    try:
        assert again.resumed and again.recordings[Leg.AGENT].samples_written == 8000
    finally:
        await again.stop("stop")
