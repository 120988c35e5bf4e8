"""The debtor's words cue the agent, end to end with the real Vosk model: "talk to my lawyer"
(EN-ATTY-1) and "I can't talk right now, I'm driving" (EN-TIME-2) on the debtor leg each put a card
with what to do on the agent's panel (an ``AgentWarning`` of the debtor leg), and are stored.

The speech is SYNTHETIC (espeak-ng, two voices), labelled as such; the database is real SQLite.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agent_monitor.audio.decode import float_to_pcm16
from agent_monitor.model.audio import Leg
from agent_monitor.model.events import AgentWarning, TranscriptEvent
from agent_monitor.pipeline import CallManager
from agent_monitor.storage import Database, repo
from tests.agent_monitor.pipeline.conftest import RATE, CallAudio, EventsOf, Push, Subscribe
from tests.agent_monitor.pipeline.test_call_session import info, of
from tests.agent_monitor.pipeline.test_wrong_party import spoken

LINES = (
    ("you will have to talk to my lawyer about that", "en-us", 0.5, "EN-ATTY-1", "attorney"),
    ("i can not talk right now i am driving", "en+m3", 6.5, "EN-TIME-2", "better time"),
)
CALL_S = 12.0


@pytest.mark.asyncio
async def test_the_debtor_saying_they_have_a_lawyer_or_cannot_talk_cues_the_agent(
    manager: CallManager,
    push: Push,
    subscribe: Subscribe,
    events_of: EventsOf,
    database: Database,
    tmp_path: Path,
) -> None:
    debtor = np.zeros(int(CALL_S * RATE), dtype=np.float32)
    for text, voice, at, _, _ in LINES:
        speech = spoken(text, voice, tmp_path)
        debtor[int(at * RATE) : int(at * RATE) + len(speech)] += speech
    sub = subscribe()
    session = await manager.start_call(info("cues-live"))
    await push(session, CallAudio(float_to_pcm16(np.zeros_like(debtor)), float_to_pcm16(debtor)))
    await session.stop("stop")
    events = events_of(sub)
    cues = {w.rule: w for w in of(events, AgentWarning) if w.leg is Leg.DEBTOR}
    heard = [e.transcript.text for e in of(events, TranscriptEvent) if e.transcript.final]
    for _, _, _, rule, wording in LINES:
        assert rule in cues, (sorted(cues), heard)
        assert wording in (cues[rule].compliant or "")
    with database.session() as s:
        stored = {r.rule_id for r in repo.list_rule_hits(s, "cues-live") if r.leg == Leg.DEBTOR}
        assert {"EN-ATTY-1", "EN-TIME-2"} <= stored
