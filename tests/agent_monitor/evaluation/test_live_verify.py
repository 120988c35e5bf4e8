"""The live evaluation's call-level score of the verify_first rules against the privacy labels:
the calls chosen by the privacy split, hits that count (confirmed, not withdrawn, agent leg), and
two short calls spoken by TTS through the real server and Vosk."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from agent_monitor.audio.conditions import CONDITIONS
from agent_monitor.cli import main
from agent_monitor.evaluation.live.assemble import CallPlan, assemble
from agent_monitor.evaluation.live.dialogues import Dialogue, Turn, load_dialogues
from agent_monitor.evaluation.live.runner import RunLog, run_calls
from agent_monitor.evaluation.live.server import running_server
from agent_monitor.evaluation.live.tts import TtsCache, Voice
from agent_monitor.evaluation.live.verify import (
    VerifyCall,
    choose_privacy,
    debtor_hits,
    format_verify_live,
    live_verify_hits,
    privacy_labels,
    score_verify,
    summarize_verify,
)
from agent_monitor.model.audio import Leg
from agent_monitor.model.transcript import Transcript
from agent_monitor.settings import Settings
from qa_rules.engine import load_rules_from_settings
from qa_rules.offline.verify_first import LabelledCall, flagged, load_calls

RULE = "EN-3P-3"


def test_privacy_part_runs_its_calls_positives_first(eval_data: Path) -> None:
    """``--privacy-part test``: the 60 calls of eval verify's test part, its 7 labelled early
    disclosure first; a shorter run keeps them."""
    labelled = privacy_labels(eval_data)
    every = load_dialogues(eval_data, "all")
    test = choose_privacy(every, labelled, "test", None, seed=0)
    assert {d.call_id for d in test} == {c.call_id for c in load_calls(eval_data, "test")}
    early = [labelled[d.call_id].disclosed_early for d in test]
    assert len(test) == 60 and early == [True] * 7 + [False] * 53
    short = choose_privacy(every, labelled, "test", 10, seed=0)
    assert short == test[:10] and choose_privacy(every, labelled, "test", 10, seed=1) != short
    assert len(choose_privacy(every, labelled, "all", None, seed=0)) == len(labelled) == 120


Event = tuple[float, dict[str, Any]]


def _hit(status: str, rule: str = RULE, leg: str = "agent", utterance: int = 3) -> Event:
    hit = {"rule": rule, "leg": leg, "utterance": utterance, "evidence": "balance of 450", "end": 9.0}
    return (0.0, {"type": "rule_hit", "call_id": "c", "status": status, "t": 9.0, "hit": hit})


@pytest.mark.parametrize(
    ("events", "counts"),
    [
        ([_hit("provisional")], False),  # never settled
        ([_hit("provisional"), _hit("confirmed")], True),
        ([_hit("confirmed"), _hit("withdrawn")], False),  # taken back
        ([_hit("confirmed", leg="debtor")], False),
        ([_hit("confirmed", rule="EN-ABUSE-1")], False),  # not a verify_first rule
        ([_hit("confirmed", utterance=2), _hit("withdrawn", utterance=3)], True),  # another utterance's
    ],
)
def test_a_live_hit_counts_when_confirmed_and_not_withdrawn(events: list[Event], counts: bool) -> None:
    assert bool(live_verify_hits(events, frozenset({RULE}))) is counts


def _dialogue(call_id: str, agent: tuple[str, str]) -> Dialogue:
    return Dialogue(
        call_id,
        (
            Turn(0, Leg.AGENT, agent[0], 0.0, 4.0, 0),
            Turn(1, Leg.DEBTOR, "Yes, what is this about?", 4.5, 6.5, None),
            Turn(2, Leg.AGENT, agent[1], 7.0, 11.0, 0),
        ),
    )


def _labelled(dialogue: Dialogue, disclosed_early: bool) -> LabelledCall:
    turns = tuple(
        Transcript(Leg.AGENT, i, t.stime, t.etime, t.text, final=True)
        for i, t in enumerate(t for t in dialogue.turns if t.leg is Leg.AGENT)
    )
    return LabelledCall(dialogue.call_id, disclosed_early, "test", turns)


def test_calls_through_the_real_server_flagged_per_call(settings: Settings, tmp_path: Path) -> None:
    """The balance said before the date of birth is flagged live, as in text; the same balance
    after the agent asked for the date of birth is not."""
    early = _dialogue(
        "verify-live-early",
        ("Hello, this is Mark from the collections office.", "You have a balance of five hundred dollars."),
    )
    late = _dialogue(
        "verify-live-late",
        ("Hello, can you confirm your date of birth please?", "You have a balance of five hundred dollars."),
    )
    labelled = {early.call_id: _labelled(early, True), late.call_id: _labelled(late, False)}
    ruleset = load_rules_from_settings(settings)
    assert flagged(ruleset, labelled[early.call_id]) and not flagged(ruleset, labelled[late.call_id])
    plan = CallPlan(Voice("flite", "kal"), Voice("espeak-ng", "en-us"), CONDITIONS["mulaw"], 0.0)
    tts = TtsCache(tmp_path / "tts")
    calls = [assemble(d, plan, tts, seed=0) for d in (early, late)]
    with running_server() as server:
        log = asyncio.run(run_calls(server, calls, concurrency=2, speed=1.0))
    results = {r.call_id: r for r in score_verify(calls, labelled, log, ruleset)}
    assert results[early.call_id].live_flag, (results[early.call_id], _finals(log))
    assert not results[late.call_id].live_flag, (results[late.call_id], _finals(log))
    assert "five hundred" in results[early.call_id].live_evidence[0]
    assert results[early.call_id].text_turn == "You have a balance of five hundred dollars."
    s = summarize_verify(list(results.values()))
    assert (s.positives, s.text_hits, s.live_hits, s.clean, s.text_false, s.live_false) == (1, 1, 1, 1, 0, 0)
    table = "\n".join(format_verify_live(list(results.values())))
    assert "| all | 1 | 1/1 | 1/1 | 1 | 0/1 | 0/1 |" in table


def _finals(log: RunLog) -> list[str]:
    return [e["text"] for _, e in log.events if e["type"] == "transcript" and e["final"]]


def test_a_run_without_labelled_calls_says_so() -> None:
    assert format_verify_live([]) == ["verify_first (privacy labels): no privacy-labelled call in this run"]


def test_privacy_part_with_text_only_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AGENT_MONITOR_DATA_DIR", str(tmp_path / "data"))
    assert main(["eval", "live", "--privacy-part", "test", "--text-only"]) == 1
    assert "agent-monitor eval verify --part" in capsys.readouterr().err


def test_a_call_live_and_text_disagree_on_shows_what_the_debtor_leg_raised_live() -> None:
    """A refusal heard on the debtor leg undoes the agent's request (text and live alike): the
    report names the debtor leg's confirmed live hits of each call it lists, or says there was none."""
    final = {"type": "transcript", "leg": "debtor", "final": True, "start": 8.0, "end": 10.0}
    events: list[Event] = [
        (0.0, {**final, "text": "why would i tell you anything"}),
        _hit("confirmed", rule="EN-VERIFY-REFUSED-1", leg="debtor"),
        _hit("confirmed"),  # the agent leg's
        _hit("provisional", rule="EN-WRONG-PARTY-1", leg="debtor", utterance=4),  # never confirmed
    ]
    heard = debtor_hits(events)
    assert heard == ("EN-VERIFY-REFUSED-1 'balance of 450' at 9.0 s in 'why would i tell you anything'",)
    missed = VerifyCall("c-1", True, True, False, "a balance", "a balance", (), "gsm -6 dB", "flite:kal")
    lines = format_verify_live([missed, replace(missed, call_id="c-2", debtor_hits=heard)])
    said = [
        "text flagged, live not flagged",
        "  text: 'a balance'; heard: 'a balance'",
    ]
    assert lines[-6:] == [
        f"- c-1 (labelled early disclosure; gsm -6 dB, agent flite:kal): {said[0]}",
        said[1],
        "  debtor leg live: no rule hit",
        f"- c-2 (labelled early disclosure; gsm -6 dB, agent flite:kal): {said[0]}",
        said[1],
        f"  debtor leg live: {heard[0]}",
    ]
