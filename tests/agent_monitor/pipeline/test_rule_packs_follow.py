"""Rule pack choices stored by another node of a floor reach this node's new calls
(:func:`follow_rule_packs`): two real call managers on one real SQLite database, the installed
packs and the real Vosk model. ``admin_node`` makes the change as the admin page does (it may be a
web node that takes no calls); ``analysis_node`` takes the calls and follows the stored choices.
Before, a change made on one node reached no other node until it restarted."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from agent_monitor.model.audio import Leg
from agent_monitor.model.rules import HitStatus
from agent_monitor.model.session import CallInfo
from agent_monitor.model.stages import Stages
from agent_monitor.model.transcript import Transcript
from agent_monitor.pipeline import CallManager, InProcessEventBus
from agent_monitor.pipeline.rule_packs import change_rule_packs, follow_rule_packs, load_rule_packs
from agent_monitor.settings import Settings
from agent_monitor.storage import Database, repo
from tests.agent_monitor.pipeline.conftest import FakeClock

LINE = "you are a stupid idiot"
_calls = itertools.count()


async def _rules_hit(manager: CallManager, text: str) -> set[str]:
    """The rules confirmed on the agent leg of a call started now on ``manager`` for one final
    utterance ``text`` (the rule set in use at the call's start)."""
    session = await manager.start_call(CallInfo(call_id=f"follow-{next(_calls)}", agent_id="A-ONE"))
    try:
        checker = session.legs[Leg.AGENT].checker
        assert checker is not None
        events = checker.update(Transcript(Leg.AGENT, 0, 0.1, 0.9, text, True))
        return {e.hit.rule for e in events if e.status is HitStatus.CONFIRMED}
    finally:
        await session.stop("stop")


def _switch(enabled: bool) -> Any:
    def change(s: Any) -> None:
        repo.set_file_enabled(s, "en/abuse.yaml", enabled, "admin1")

    return change


@pytest.mark.asyncio
async def test_a_change_stored_by_another_node_reaches_new_calls(
    live_settings: Settings, stages: Stages, database: Database, bus: InProcessEventBus, clock: FakeClock
) -> None:
    admin_node = CallManager(live_settings, stages, database, bus, clock=clock)
    analysis_node = CallManager(live_settings, stages, database, bus, clock=clock)
    try:
        for node in (admin_node, analysis_node):
            await load_rule_packs(node)
        assert not await follow_rule_packs(analysis_node)  # nothing changed since its start
        await change_rule_packs(admin_node, _switch(False))
        assert "EN-INSULT-1" in await _rules_hit(analysis_node, LINE)  # not followed yet
        assert await follow_rule_packs(analysis_node)
        assert not any(rule.startswith("EN-") for rule in await _rules_hit(analysis_node, LINE))
        assert not await follow_rule_packs(analysis_node)  # applied once
        assert not await follow_rule_packs(admin_node)  # its own change: already applied
        await change_rule_packs(admin_node, _switch(True))
        assert await follow_rule_packs(analysis_node)
        assert "EN-INSULT-1" in await _rules_hit(analysis_node, LINE)
    finally:
        for node in (admin_node, analysis_node):
            await node.shutdown()


#: a pack whose rule id is already an installed pack's: it does not load with them
CLASHING = """pack: clash
version: 1.0.0
rules:
  - id: EN-INSULT-1
    title: Says papaya
    category: profanity
    severity: yellow
    languages: [en]
    leg: agent
    patterns:
      - "papaya"
    citation: test
    compliant: say something else
    examples:
      positive: ["a papaya for you"]
      negative: ["an apple for you"]
"""


@pytest.mark.asyncio
async def test_stored_choices_that_do_not_load_are_tried_once(
    live_settings: Settings,
    stages: Stages,
    database: Database,
    bus: InProcessEventBus,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with database.session() as s:  # stored past the admin page's check (another node's packs)
        repo.add_pack_version(s, "clash", CLASHING, "admin1")
    node = CallManager(live_settings, stages, database, bus, clock=clock)
    try:
        await load_rule_packs(node)
        assert "stored rule pack choices not applied" in caplog.text and "EN-INSULT-1" in caplog.text
        assert "EN-INSULT-1" in await _rules_hit(node, LINE)  # the installed files, as before
        caplog.clear()
        assert not await follow_rule_packs(node)  # the same choices: not tried again
        assert caplog.text == ""
    finally:
        await node.shutdown()
