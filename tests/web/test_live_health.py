"""Signal health through the real server: a call whose debtor leg is G.711 mu-law bytes while the
start message declared L16 (a mis-configured media fork), streamed into ``/ws/ingest``; the
agent leg is the real phone call of the shared data. Real Vosk model, real SQLite database."""

from __future__ import annotations

import asyncio

import numpy as np

from agent_monitor.audio.g711 import mulaw_encode
from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.ingest.client import stream_ingest
from agent_monitor.model.audio import Leg
from agent_monitor.storage import repo
from tests.web.live_support import EventCollector, LiveServer

CALL = "health-ingest-1"


def test_mulaw_bytes_declared_as_l16_reach_the_events_and_the_call_record(
    live_server: LiveServer, real_call: CallAudio
) -> None:
    excerpt = real_call.excerpt(0.0, 12.0)
    # what the sender puts on the wire for the debtor: its mu-law bytes, two of them per "L16 sample"
    wire = mulaw_encode(np.concatenate([excerpt.debtor, excerpt.debtor]))
    misdeclared = CallAudio(excerpt.sample_rate, excerpt.agent, np.frombuffer(wire, dtype="<i2").copy())

    async def run() -> tuple[object, EventCollector]:
        async with EventCollector(
            live_server.ws + f"/ws/events?call_id={CALL}&types=signal_health,call_ended", live_server.cookie
        ) as events:
            result = await stream_ingest(
                live_server.url,
                misdeclared,
                {"call_id": CALL, "agent_id": "A-9"},
                speed=3.0,
                token=live_server.token,
            )
            await events.wait_for(CALL, "call_ended")
        return result, events

    result, events = asyncio.run(run())
    assert result.completed, (result.close_code, result.close_reason)  # type: ignore[attr-defined]
    health = [e["health"] for e in events.of(CALL, "signal_health")]
    assert [(h["leg"], h["issue"], h["active"]) for h in health] == [("debtor", "encoding_mismatch", True)]
    assert (
        health[0]["message"]
        == "debtor leg sounds like white noise: the audio is probably not L16 as declared"
    )
    with live_server.services.db.session() as s:
        rows = repo.list_signal_health(s, CALL)
        assert [(r.leg, r.issue, r.active) for r in rows] == [(Leg.DEBTOR, "encoding_mismatch", True)]
