"""The agent's checklist of required disclosures, published live by the call session (real Vosk
model, the real call MUL1011, must-say window shortened to 5 s so the window passes in the test)."""

from __future__ import annotations

import itertools

import pytest

from agent_monitor.compose import assemble
from agent_monitor.model.events import AgentWarning, DisclosureChecklist
from agent_monitor.model.rules import DisclosureState
from agent_monitor.pipeline import CallManager, InProcessEventBus
from agent_monitor.settings import Settings
from agent_monitor.storage import Database
from asr.languages import LanguageModels
from qa_rules import LiveRules
from tests.agent_monitor.pipeline.conftest import CallAudio, EventsOf, FakeClock, Push, Subscribe

from .test_call_session import info, of


@pytest.mark.asyncio
async def test_checklist_goes_from_due_to_said_or_missed_and_misses_warn_as_misses(
    models: LanguageModels,
    live_settings: Settings,
    database: Database,
    bus: InProcessEventBus,
    clock: FakeClock,
    clean_call: CallAudio,
    push: Push,
    subscribe: Subscribe,
    events_of: EventsOf,
) -> None:
    short_window = live_settings.model_copy(
        update={"rules": live_settings.rules.model_copy(update={"must_say_window_s": 5.0})}
    )
    stages = assemble(short_window, models, LiveRules.from_settings(short_window))
    manager = CallManager(short_window, stages, database, bus, clock=clock)
    sub = subscribe()
    session = await manager.start_call(info("call-checklist"))
    await push(session, clean_call, seconds=8)
    await session.stop("stop")
    events = events_of(sub)
    await manager.shutdown()

    lists = of(events, DisclosureChecklist)
    assert lists, "no checklist published"
    first, last = lists[0].items, lists[-1].items
    assert [d.rule for d in first] == ["EN-DISC-ID-1", "EN-DISC-MM-1", "EN-DISC-REC-1"]
    assert all(d.state is DisclosureState.DUE and d.due_s == 5.0 and d.wording for d in first)
    assert all(d.state is not DisclosureState.DUE for d in last)  # the window has passed
    assert all(a.items != b.items for a, b in itertools.pairwise(lists))  # only changes
    assert all(e.agent_id == "agent-7" and e.call_id == "call-checklist" for e in lists)
    assert session.checklist == last
    # every miss reached the agent as a warning that reads as a miss and quotes nothing
    missed = {d.rule for d in last if d.state is DisclosureState.MISSED}
    warnings = {w.rule: w for w in of(events, AgentWarning) if w.rule in missed}
    assert set(warnings) == missed
    for w in warnings.values():
        assert w.evidence == "" and "not" in w.title and "first 5 s" in w.title
        assert w.reason and w.title not in w.reason
    assert lists[-1].to_dict()["items"][0]["state"] in ("said", "missed")
