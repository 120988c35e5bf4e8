"""``agent-monitor rules lint|test|check`` and ``eval rules`` through the real entry point."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent_monitor.cli import main
from agent_monitor.settings import REPO_ROOT

PACKS = REPO_ROOT / "qa_rules" / "packs"


def test_lint_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "lint", str(PACKS)]) == 0
    out = capsys.readouterr().out
    assert "ok " in out and "en-abuse 1.1.0" in out and "zh-compliance" in out
    assert out.strip().splitlines()[-1].endswith(" passed, 0 failed")  # every rule's examples run


def test_lint_malformed_pack_fails_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("pack: b\nversion: 1.0.0\nrules:\n  - id: B-ONE-1\n    title: x\n", encoding="utf-8")
    assert main(["rules", "lint", str(bad)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"agent-monitor: error: {bad}: rule B-ONE-1: field 'category'")
    assert "\n" not in err


def test_rules_test_runs_every_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "test", str(PACKS)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.endswith("0 failed")


def test_rules_test_reports_failing_examples(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pack = tmp_path / "p.yaml"
    pack.write_text(
        "pack: p\nversion: 1.0.0\nrules:\n  - id: P-ONE-1\n    title: t\n    category: insult\n"
        "    severity: yellow\n    languages: [en]\n    leg: agent\n    patterns: ['you idiot']\n"
        "    citation: c\n    compliant: be kind\n"
        "    examples: {positive: ['you moron'], negative: ['hello']}\n",
        encoding="utf-8",
    )
    assert main(["rules", "test", str(pack)]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "P-ONE-1 [en] should fire: you moron" in out
    assert out.strip().endswith("2 examples, 1 passed, 1 failed")


def test_check_prints_one_json_line_per_input_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("你这个片子赶紧还钱\n您好，请问方便说话吗\n"))
    assert main(["rules", "check", "--lang", "zh", "--leg", "agent"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert list(first) == ["text", "hits"]
    assert first["text"] == "你这个片子赶紧还钱"
    hit = next(h for h in first["hits"] if h["rule"] == "ZH-INSULT-2")
    assert hit == {"rule": "ZH-INSULT-2", "category": "insult", "severity": "orange", "span": [0, 5]}
    assert json.loads(lines[1]) == {"text": "您好，请问方便说话吗", "hits": []}


def test_check_as_a_process() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "agent_monitor", "rules", "check", "--lang", "en", "--leg", "debtor"],
        input="you people are scum\nthanks, bye\n",
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["text"] for r in rows] == ["you people are scum", "thanks, bye"]
    assert {h["rule"] for h in rows[0]["hits"]} == {"EN-DEBTOR-ABUSE-1"}
    assert rows[1]["hits"] == []


def test_eval_rules_missing_dir_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "rules", str(tmp_path / "nope")]) == 1
    assert "evaluation data folder not found" in capsys.readouterr().err


def test_check_shows_classifier_probability_and_evidence(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("Listen, lady, you have got to pay up already!\n"))
    assert main(["rules", "check", "--lang", "en", "--leg", "agent"]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    # "pay" is also EN-ATTY-2 and EN-TIME-3, tried as if the person had said a lawyer represents
    # them or that this is a bad time: marked so
    assert {(h["rule"], h.get("after")) for h in hits if "after" in h} == {
        ("EN-ATTY-2", "represented"),
        ("EN-TIME-3", "inconvenient"),
    }
    (hit,) = [h for h in hits if "after" not in h]
    assert hit["rule"] == "EN-ABUSE-MODEL-1" and hit["category"] == "abusive_tone"
    assert 0.75 <= hit["probability"] <= 1.0 and "pay up" in hit["evidence"]


def test_train_to_a_folder_is_refused_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``rules train --out DIR`` trained (85 s for zh on 2 cores), then ended in a traceback
    (IsADirectoryError from the rename) that lost the model; now one line before any training."""
    import time

    started = time.monotonic()
    assert main(["rules", "train", "--lang", "zh", "--jobs", "1", "--out", str(tmp_path)]) == 1
    assert time.monotonic() - started < 20.0
    assert (
        capsys.readouterr().err.strip()
        == f"agent-monitor: error: --out {tmp_path}: is a folder; give a file name"
    )
