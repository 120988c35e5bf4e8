"""The debtor's words cue the agent, end to end with the real Vosk model: "talk to my lawyer"
(EN-ATTY-1), "I can't talk right now, I'm driving" (EN-TIME-2) and "I do not owe you anything"
(EN-DISPUTE-1) on the debtor leg each put a card with what to do on the agent's panel (an
``AgentWarning`` of the debtor leg), and are on record; the agent asking for a payment after the
lawyer was named is a warning of the agent's leg (EN-ATTY-2, the call's fact ``represented``).

The speech is SYNTHETIC (espeak-ng, two voices), labelled as such; the database is real SQLite.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_monitor.model.audio import Leg
from agent_monitor.model.events import AgentWarning, TranscriptEvent
from agent_monitor.model.rules import HitStatus
from agent_monitor.pipeline import CallManager
from agent_monitor.storage import Database, repo
from tests.agent_monitor.pipeline.conftest import EventsOf, Push, Subscribe
from tests.agent_monitor.pipeline.test_call_session import info, of
from tests.agent_monitor.pipeline.test_wrong_party import scripted

LINES = (
    ("you will have to talk to my lawyer about that", "en-us", 0.5, "EN-ATTY-1", "attorney"),
    ("i can not talk right now i am driving", "en+m3", 6.5, "EN-TIME-2", "better time"),
    ("i do not owe you anything", "en-us", 12.5, "EN-DISPUTE-1", "dispute"),
)
#: the agent, after the lawyer was named
PRESSING = ("i understand but can you make a payment today", "en+m3", 3.5)
CALL_S = 17.0


@pytest.mark.asyncio
async def test_the_debtor_saying_they_have_a_lawyer_cannot_talk_or_owe_nothing_cues_the_agent(
    manager: CallManager,
    push: Push,
    subscribe: Subscribe,
    events_of: EventsOf,
    database: Database,
    tmp_path: Path,
) -> None:
    said = [(Leg.DEBTOR, text, voice, at) for text, voice, at, _, _ in LINES]
    call = scripted(tmp_path, CALL_S, [*said, (Leg.AGENT, *PRESSING)])
    sub = subscribe()
    session = await manager.start_call(info("cues-live"))
    await push(session, call)
    await session.stop("stop")
    events = events_of(sub)
    cues = {w.rule: w for w in of(events, AgentWarning) if w.leg is Leg.DEBTOR}
    heard = [e.transcript.text for e in of(events, TranscriptEvent) if e.transcript.final]
    for _, _, _, rule, wording in LINES:
        assert rule in cues, (sorted(cues), heard)
        assert wording in (cues[rule].compliant or "")
    pressed = [w for w in of(events, AgentWarning) if w.leg is Leg.AGENT and w.rule == "EN-ATTY-2"]
    assert pressed, heard
    with database.session() as s:
        rows = repo.list_rule_hits(s, "cues-live", include_withdrawn=True, leg=Leg.DEBTOR)
        stored = {(r.rule_id, r.status) for r in rows}
    # every cue shown to the agent is on record: confirmed by the debtor's final, or withdrawn by a
    # final that did not say it (a cue raised on a partial; Vosk's dither varies its words between
    # runs, README "Plain Vosk is not repeatable to the word": one whole run in many)
    for text, _, _, rule, _ in LINES:
        assert {status for r, status in stored if r == rule}, (rule, stored, heard)
        if (rule, HitStatus.CONFIRMED) not in stored:
            assert text not in heard, (rule, stored, heard)
    assert sum((rule, HitStatus.CONFIRMED) in stored for _, _, _, rule, _ in LINES) >= 2, (stored, heard)
