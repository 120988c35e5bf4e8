"""``eval verify``: the verify_first rules against the collection dialogues' privacy labels, on
the real data, through the streaming checker and the command line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agent_monitor.cli import main
from agent_monitor.errors import DatasetError
from qa_rules.engine import RuleSet
from qa_rules.offline.verify_first import PRODIGAL, evaluate_verify, load_calls


def test_the_split_deals_each_label_to_both_halves(eval_data: Path) -> None:
    dev, test = load_calls(eval_data, "dev"), load_calls(eval_data, "test")
    assert {c.call_id for c in dev}.isdisjoint(c.call_id for c in test)
    assert len(dev) + len(test) == len(load_calls(eval_data)) == 120
    assert sum(c.disclosed_early for c in dev) == sum(c.disclosed_early for c in test) == 7
    assert all(c.agent_turns and c.agent_turns[0].final for c in dev)


def test_the_tuning_half_keeps_its_figures(ruleset: RuleSet, eval_data: Path) -> None:
    """The patterns were written on ``dev``: all 7 of its early disclosures, no clean call flagged.
    One of the 7 is an agent who asked for the address, was refused ("Why the hell would I tell
    you anything?"), and gave the balance: found since the debtor's refusal undoes the request."""
    result = evaluate_verify(ruleset, eval_data, "dev")
    assert (len(result.caught), len(result.missed), len(result.false_alarms), result.clean) == (7, 0, 0, 53)
    assert result.line().startswith("dev: 60 calls, 7 labelled early disclosure; flagged 7/7 (recall 1.00)")
    assert "d3ee9bf9-cf64-468a-83da-fac5c6fb7a41" in result.caught


def test_the_tuning_half_s_refusals_are_read_on_the_debtor_leg(ruleset: RuleSet, eval_data: Path) -> None:
    """Read by hand, five calls of ``dev`` have a person who would not give the details asked for
    ("I don't have that information right now", "I'm not giving you a single piece of info")."""
    result = evaluate_verify(ruleset, eval_data, "dev")
    assert [c[:8] for c in result.refused] == ["2ea925db", "3e6dde01", "584fd5cd", "ab6ec93c", "d3ee9bf9"]


def test_the_tuning_half_s_wrong_parties_are_found_across_the_legs(ruleset: RuleSet, eval_data: Path) -> None:
    """Read by hand, three calls of ``dev`` are answered by someone who says they are not the
    debtor; in two the agent then named the debt. The third's agent named it first, after a "No,
    this is Sarah" the rules do not read as a wrong party."""
    result = evaluate_verify(ruleset, eval_data, "dev")
    assert [c[:8] for c in result.wrong_party] == ["63803395", "80e5fe02", "a73d777f"]
    assert [c[:8] for c in result.told] == ["63803395", "80e5fe02"]


def test_the_command_reports_the_held_out_half(eval_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "verify", str(eval_data)]) == 0
    figures, wrong_parties, refusals = capsys.readouterr().out.strip().splitlines()[-3:]
    assert figures.startswith("test: 60 calls, 7 labelled early disclosure; flagged ")
    assert wrong_parties.startswith("test: the person who answered said they are not the debtor on ")
    assert refusals.startswith("test: the person would not verify who they are on ")


def test_missing_or_bad_labels_are_clear_errors(eval_data: Path, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"privacy_labels\.csv: evaluation file not found"):
        load_calls(tmp_path)
    folder = tmp_path / PRODIGAL
    folder.mkdir(parents=True)
    (folder / "privacy_labels.csv").write_text("call_id,label\nabc,yes\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"privacy_labels\.csv:2: expected call_id and label 0 or 1"):
        load_calls(tmp_path)
    shutil.copy(eval_data / PRODIGAL / "privacy_labels.csv", folder / "privacy_labels.csv")
    (folder / "calls").mkdir()
    with pytest.raises(DatasetError, match="not a dialogue"):
        load_calls(tmp_path)
