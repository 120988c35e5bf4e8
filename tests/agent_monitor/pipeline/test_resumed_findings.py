"""Issue #14 weak point 2: a rule hit stored twice. A resumed call (the client reconnected, the
server restarted) gets a new rule checker and alert policy: without its history the checker
reported every must-say disclosure "missed" again (a second row of the same finding), and even
ones said before the reconnection. Real Vosk, real rule packs, real database."""

from __future__ import annotations

import dataclasses

import pytest

from agent_monitor.model.audio import Leg
from agent_monitor.model.stages import Stages
from agent_monitor.model.transcript import Transcript, Word
from agent_monitor.pipeline import CallManager, InProcessEventBus
from agent_monitor.settings import Settings
from agent_monitor.storage import Database, repo
from asr.languages import LanguageModels
from qa_rules import LiveRules, load_rules_from_settings
from tests.agent_monitor.pipeline.conftest import FakeClock
from tests.agent_monitor.pipeline.test_call_session import info

WINDOW_S = 2.0


@pytest.fixture()
def short_window_stages(base_settings: Settings, models: LanguageModels, stages: Stages) -> Stages:
    rules = base_settings.rules.model_copy(update={"must_say_window_s": WINDOW_S})
    settings = base_settings.model_copy(update={"rules": rules})
    return dataclasses.replace(stages, checkers=LiveRules(load_rules_from_settings(settings), rules))


def _findings(database: Database, call_id: str) -> list[tuple[str, str | None]]:
    with database.session() as s:
        rows = repo.list_rule_hits(s, call_id, include_withdrawn=True)
        return sorted((r.rule_id, r.leg) for r in rows if r.utterance_no is None)


@pytest.mark.asyncio
async def test_resumed_call_does_not_report_must_say_findings_again(
    live_settings: Settings,
    short_window_stages: Stages,
    database: Database,
    bus: InProcessEventBus,
    clock: FakeClock,
) -> None:
    silence = bytes(2 * 8000 * 3)  # 3 s per leg, past the 2 s window
    first = CallManager(live_settings, short_window_stages, database, bus, clock=clock)
    s1 = await first.start_call(info("call-resume-findings"))
    # the caller's identity was said before the reconnection (a stored final transcript)
    said = "hi this is sam calling from acme recovery"
    words = tuple(Word(w, 0.2 + 0.1 * i, 0.25 + 0.1 * i, 1.0) for i, w in enumerate(said.split()))
    transcript = Transcript(Leg.AGENT, 0, 0.2, 1.2, said, True, words, "en")
    await s1.on_transcripts(Leg.AGENT, [transcript])  # as the leg worker hands on a final
    checker = s1.legs[Leg.AGENT].checker
    assert checker is not None and checker.update(transcript) == []
    s1.push_audio(Leg.AGENT, silence)
    s1.push_audio(Leg.DEBTOR, silence)
    await first.shutdown()
    before = _findings(database, "call-resume-findings")
    assert before and ("EN-DISC-ID-1", Leg.AGENT) not in before
    second = CallManager(live_settings, short_window_stages, database, bus, clock=clock)
    s2 = await second.start_call(info("call-resume-findings"))
    assert s2.resumed
    s2.push_audio(Leg.AGENT, silence)
    s2.push_audio(Leg.DEBTOR, silence)
    await s2.stop("stop")
    await second.shutdown()
    assert _findings(database, "call-resume-findings") == before
