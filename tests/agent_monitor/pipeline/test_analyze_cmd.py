"""``agent-monitor analyze``: a recorded call through the same pipeline; report printed and stored.

The file is the real call excerpt with the SYNTHETIC espeak-ng violation on the agent channel."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from agent_monitor.cli import main
from agent_monitor.model.levels import WarningLevel
from agent_monitor.storage import Database, repo
from tests.agent_monitor.pipeline.conftest import CallAudio


def test_analyze_json_report_is_printed_and_stored(
    tmp_path: Path,
    violation_call: CallAudio,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    n = 8000 * 20
    stereo = np.stack(
        [np.frombuffer(violation_call.agent, "<i2")[:n], np.frombuffer(violation_call.debtor, "<i2")[:n]],
        axis=1,
    )
    wav = tmp_path / "call.wav"
    sf.write(wav, stereo, 8000, subtype="PCM_16")
    data_dir = tmp_path / "data"
    monkeypatch.setenv("AGENT_MONITOR_DATA_DIR", str(data_dir))
    monkeypatch.setenv("AGENT_MONITOR_RULES__MUST_SAY_WINDOW_S", "600")

    assert main(["analyze", str(wav), "--json", "--call-id", "rec-1", "--agent", "a9"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["call_id"] == "rec-1" and report["agent_id"] == "a9" and report["status"] == "ended"
    assert report["level"] == "red" and report["high_sensitivity"] and report["qa_queued"]
    # the false legal threat ("we will have you arrested"); the insult ("a stupid deadbeat") as
    # whatever the recogniser made of it allows: the abuse classifier's tone, or the insult rule
    rules = [h["rule"] for h in report["hits"]]
    assert "EN-FALSE-1" in rules and all(
        r == "EN-FALSE-1" or r.startswith(("EN-INSULT-", "EN-ABUSE-")) for r in rules
    )
    assert all(h["status"] == "confirmed" and h["leg"] == "agent" for h in report["hits"])
    assert {u["leg"] for u in report["utterances"]} == {"agent", "debtor"}
    assert len(report["stress"]) >= 18 and report["alerts"][0]["handoff"] == "requested"
    assert report["duration_s"] == pytest.approx(20.0)
    assert report["audio_s"] == pytest.approx(20.0, abs=0.01)

    db = Database.open(f"sqlite:///{data_dir / 'agent-monitor.db'}")
    try:
        with db.session() as s:
            call = repo.get_call(s, "rec-1")
            assert call.source_protocol == "file" and call.final_level is WarningLevel.RED
            assert len(repo.list_utterances(s, "rec-1", final_only=True)) == len(report["utterances"])
    finally:
        db.dispose()

    assert main(["analyze", str(wav), "--call-id", "rec-2"]) == 0  # the text report
    text = capsys.readouterr().out
    assert "level: red" in text and "EN-FALSE-1" in text and "say instead:" in text


def test_analyze_missing_file_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AGENT_MONITOR_DATA_DIR", str(tmp_path / "data"))
    assert main(["analyze", str(tmp_path / "nope.wav")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("agent-monitor: error:") and "no such file" in err and "\n" not in err


def test_a_four_channel_recording_is_analysed_with_the_channel_map_its_error_names(
    tmp_path: Path,
    violation_call: CallAudio,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``analyze`` of a file with more than 2 channels said "say which channel is which leg (e.g.
    --channel-map 0=agent,1=debtor)", an option ``analyze`` did not have (argparse refused it, exit
    2); now ``analyze`` takes ``--channel-map`` and the call is analysed from the channels named."""
    n = 8000 * 10
    agent, debtor = (np.frombuffer(leg, "<i2")[:n] for leg in (violation_call.agent, violation_call.debtor))
    silent = np.zeros(n, np.int16)
    wav = tmp_path / "four.wav"
    sf.write(wav, np.stack([silent, debtor, silent, agent], axis=1), 8000, subtype="PCM_16")
    monkeypatch.setenv("AGENT_MONITOR_DATA_DIR", str(tmp_path / "data"))

    assert main(["analyze", str(wav), "--json"]) == 1
    assert "--channel-map 0=agent,1=debtor" in capsys.readouterr().err
    assert (
        main(["analyze", str(wav), "--json", "--call-id", "four", "--channel-map", "3=agent,1=debtor"]) == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["call_id"] == "four" and report["audio_s"] == pytest.approx(10.0, abs=0.01)
    assert {u["leg"] for u in report["utterances"]} == {"agent", "debtor"}
    assert main(["analyze", str(wav), "--channel-map", "3=agent,7=debtor"]) == 1
    assert (
        capsys.readouterr().err.strip()
        == f"agent-monitor: error: {wav}: channel 7 mapped to debtor does not exist"
    )
