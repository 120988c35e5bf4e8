"""``eval live --text-only``: the live evaluation's labelled agent turns through the rules as text."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_monitor.cli import main
from agent_monitor.evaluation.live.dialogues import load_dialogues
from agent_monitor.evaluation.live.text_only import format_text_turns, text_turns
from agent_monitor.settings import Settings
from qa_rules.engine import load_rules_from_settings


def test_text_turns_follow_the_live_split_and_the_labels(base_settings: Settings, eval_data: Path) -> None:
    ruleset = load_rules_from_settings(base_settings)
    tune = text_turns(ruleset, eval_data, "tune", None, 0)
    tune_calls = {d.call_id for d in load_dialogues(eval_data, "tune")}
    assert {t.call_id for t in tune} <= tune_calls
    assert {t.label for t in tune} == {0, 1}
    abusive = [t for t in tune if t.label == 1]
    # the engine finds most abusive turns and few clean ones (a recall / false-alarm sanity band)
    assert sum(bool(t.rules) for t in abusive) >= 0.8 * len(abusive)
    clean = [t for t in tune if t.label == 0]
    assert sum(bool(t.rules) for t in clean) <= 0.05 * len(clean)
    assert all(r.startswith("EN-") for t in tune for r in t.rules)
    # a sample of calls chosen abusive-first holds the abusive turns of the split
    sample = text_turns(ruleset, eval_data, "tune", 2, 0)
    assert len({t.call_id for t in sample}) == 2 and any(t.label == 1 for t in sample)
    summary = format_text_turns(tune, "tune").splitlines()[-1]
    assert summary.startswith(f"tune half as text ({len(tune_calls)} calls)")
    assert f"/{len(clean)} = " in summary


def test_cli_text_only_prints_the_reporting_half(eval_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "live", str(eval_data), "--text-only", "--calls", "3"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1].startswith("report half as text (3 calls): abusive agent turns flagged ")


@pytest.mark.parametrize("gain", ["-5", "61", "nan"])
def test_cli_refuses_a_max_gain_outside_0_to_60_db(
    eval_data: Path, gain: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A negative bound would amplify the calls (gains up to +5 dB), not attenuate them."""
    assert main(["eval", "live", str(eval_data), "--calls", "1", "--max-gain-db", gain]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"agent-monitor: error: --max-gain-db takes 0 to 60 dB (got {float(gain):g})"]


@pytest.mark.parametrize("speed", ["0", "-1", "inf", "nan"])
def test_cli_refuses_a_speed_that_is_not_a_positive_number(
    eval_data: Path, speed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An infinite speed used to run the calls and report every turn as missed."""
    assert main(["eval", "live", str(eval_data), "--calls", "1", "--speed", speed]) == 1
    assert "--speed a positive number" in capsys.readouterr().err
