"""Issue #15 item 5 (last part): a call resumed after one leg's recording fell behind (its writes
failed on a full disk, or the leg stopped earlier) continues both legs at the same call time."""

from __future__ import annotations

import pytest

from agent_monitor.model.audio import Leg
from agent_monitor.model.session import CallInfo
from agent_monitor.pipeline import CallManager


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
