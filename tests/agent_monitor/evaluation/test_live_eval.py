"""The live evaluation harness on short calls: real TTS, real server, real Vosk model."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from agent_monitor.audio.conditions import CONDITIONS
from agent_monitor.evaluation.live.assemble import CallPlan, assemble, place, plan_call
from agent_monitor.evaluation.live.dialogues import Dialogue, Turn, choose, load_dialogues, split_of
from agent_monitor.evaluation.live.report import (
    call_health,
    format_report,
    health_rows,
    raised_health,
    summarize,
)
from agent_monitor.evaluation.live.runner import RunLog, run_calls
from agent_monitor.evaluation.live.scoring import score_call
from agent_monitor.evaluation.live.server import running_server
from agent_monitor.evaluation.live.tts import VOICES, TtsCache, Voice
from agent_monitor.model.audio import Leg
from agent_monitor.settings import Settings
from qa_rules.engine import load_rules_from_settings

SHORT = Dialogue(
    "eval-live-test-1",
    (
        Turn(
            0, Leg.AGENT, "Hello, this is Mark from the collections office about your account.", 0.0, 4.0, 0
        ),
        Turn(1, Leg.DEBTOR, "I already told you I cannot pay this month.", 4.0, 7.0, None),
        Turn(2, Leg.AGENT, "You are a stupid idiot.", 7.0, 9.0, 1),
        Turn(3, Leg.DEBTOR, "Please do not talk to me like that.", 9.0, 11.0, None),
    ),
)


def test_prodigal_split_is_fixed_and_disjoint(eval_data: Path) -> None:
    tune = load_dialogues(eval_data, "tune")
    report = load_dialogues(eval_data, "report")
    assert len(tune) + len(report) == 120
    assert not {d.call_id for d in tune} & {d.call_id for d in report}
    assert all(split_of(d.call_id) == "report" for d in report)
    abusive = sum(d.abusive_agent_turns for d in tune + report)
    assert abusive == 32  # the README's 32 labelled abusive agent turns
    chosen = choose(report, 3, seed=0)
    assert chosen[0].abusive_agent_turns > 0 and len(chosen) == 3


def test_plan_gives_the_legs_different_engines() -> None:
    lines = [CONDITIONS["mulaw"], CONDITIONS["gsm"]]
    plans = [plan_call(f"call-{i}", 7, lines) for i in range(30)]
    assert all(p.agent_voice.engine != p.debtor_voice.engine for p in plans)
    assert all(-12 <= p.gain_db <= 0 for p in plans)
    assert len({p.agent_voice for p in plans}) > 3
    assert plan_call("call-1", 7, lines) == plans[1]  # seeded


def test_turns_on_one_leg_never_overlap() -> None:
    turns = SHORT.turns
    clips = [np.full(int(8000 * s), 0.1, dtype=np.float32) for s in (7.5, 1.0, 3.0, 1.0)]
    spans = place(turns, clips)
    agent = [
        (s, s + len(c) / 8000) for t, c, (s, _) in zip(turns, clips, spans, strict=True) if t.leg is Leg.AGENT
    ]
    assert agent[1][0] >= agent[0][1]  # pushed back: the first agent turn runs past the second
    assert spans[3][0] > turns[3].stime  # and the later turns with it


@pytest.mark.parametrize("voice", [vs[0] for vs in VOICES.values()], ids=list(VOICES))
def test_every_engine_speaks(voice: Voice, tmp_path: Path) -> None:
    tts = TtsCache(tmp_path)
    x = tts.speak(voice, "please pay your bill", 8000)
    assert 0.5 < len(x) / 8000 < 5 and float(np.abs(x).max()) > 0.05
    assert tts.path(voice, "please pay your bill").is_file()


def test_short_call_through_the_real_server(settings: Settings, tmp_path: Path) -> None:
    plan = CallPlan(Voice("flite", "kal"), Voice("espeak-ng", "en-us"), CONDITIONS["mulaw"], -6.0)
    call = assemble(SHORT, plan, TtsCache(tmp_path / "tts"), seed=0)
    assert call.encoding == "mulaw"
    assert replace(call, plan=replace(plan, line=CONDITIONS["alaw-20"])).encoding == "alaw"
    assert replace(call, plan=replace(plan, line=CONDITIONS["gsm"])).encoding == "L16"
    with running_server() as server:
        log = asyncio.run(run_calls(server, [call], concurrency=1, speed=1.0))
    assert log.streams[SHORT.call_id].completed
    results = score_call(call, log, load_rules_from_settings(settings))
    by_turn = {r.turn: r for r in results}
    assert set(by_turn) == {0, 2}
    assert by_turn[2].text_flag and by_turn[2].live_flag, by_turn[2]
    assert not by_turn[0].live_flag and not by_turn[0].text_flag, by_turn[0]
    assert "idiot" in by_turn[2].heard
    latency = by_turn[2].latency_word_s
    # measured, after the word was sent, and not off by the call's length; how fast it is depends on
    # the machine's load (the evaluation reports it, this test does not judge it)
    assert latency is not None and 0.0 < latency < 30.0
    s = summarize(results)
    assert (s.abusive, s.live_hits, s.clean, s.live_false) == (1, 1, 1, 0)
    table = format_report(results, [call], log, 1, 1.0)
    assert "mulaw -6 dB" in table and "SYNTHETIC" in table
    assert "signal health raised live, per line:" in table and "\n| mulaw | 1 | " in table


def test_health_table_counts_calls_per_line_and_leg(tmp_path: Path) -> None:
    plan = CallPlan(Voice("flite", "kal"), Voice("espeak-ng", "en-us"), CONDITIONS["gsm"], 0.0)
    gsm = assemble(SHORT, plan, TtsCache(tmp_path / "tts"), seed=0)
    gsm2 = replace(gsm, dialogue=replace(SHORT, call_id="gsm-2"))
    clean = replace(
        gsm, dialogue=replace(SHORT, call_id="clean-1"), plan=replace(plan, line=CONDITIONS["clean"])
    )

    def health(
        call_id: str, leg: str, issue: str, active: bool, figures: dict[str, float] | None = None
    ) -> tuple[float, dict[str, object]]:
        event = {"leg": leg, "issue": issue, "active": active, "message": "m", "figures": figures or {}}
        return (0.0, {"type": "signal_health", "call_id": call_id, "t": 1.0, "health": event})

    log = RunLog()
    log.events = [
        health(SHORT.call_id, "debtor", "unclear", True),
        health(SHORT.call_id, "debtor", "unclear", False),
        health(SHORT.call_id, "debtor", "unclear", True),  # the same call counts once
        health("gsm-2", "debtor", "unclear", True),
        health("gsm-2", "agent", "low_level", True),
        health("gsm-2", "agent", "unclear", True, {"unsure": 0.0, "deaf": 1.0}),  # named by what started it
        health("clean-1", "agent", "noisy", False),  # only a clearing: nothing raised
        health("not-in-the-run", "agent", "silent", True),
        (0.0, {"type": "rule_hit", "call_id": "clean-1", "t": 1.0}),
    ]
    raised = raised_health([gsm, gsm2, clean], log)
    assert call_health(raised, "gsm-2") == "agent low_level, debtor unclear, agent unclear:wordless"
    assert health_rows([gsm, gsm2, clean], log)[2:] == [
        "| clean | 1 | none |",
        "| gsm | 2 | low_level 1/0, unclear 0/2, unclear:wordless 1/0 |",
    ]
