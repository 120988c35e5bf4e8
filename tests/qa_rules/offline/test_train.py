"""``agent-monitor rules train`` rebuilds the shipped Chinese model exactly (dev parts only)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent_monitor.cli import main
from agent_monitor.settings import REPO_ROOT


def test_rules_train_reproduces_the_shipped_model(
    eval_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "abuse-zh.json"
    args = ["rules", "train", "--lang", "zh", "--data", str(eval_data), "--out", str(out), "--jobs", "5"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "threshold" in printed and "dev cold" in printed
    built = json.loads(out.read_text(encoding="utf-8"))
    shipped = json.loads((REPO_ROOT / "models" / "abuse" / "abuse-zh.json").read_text(encoding="utf-8"))
    for key in ("threshold", "min_length", "views", "features", "rows"):
        assert built[key] == shipped[key], key
    cv = built["cross_validation"]
    assert cv["fold_seeds"] == 5
    cold = cv["rules_plus_model_at_threshold"]["cold"]
    assert cold["fpr_min"] <= cold["fpr"] <= min(cold["fpr_max"], cv["max_fpr"]["cold"])
    # dev parts only: no test rows
    assert set(built["rows"]) == {"cold", "cold-offensive", "swsr-all", "self-written"}
    assert built["rows"]["cold"]["total"] < 1000
    assert built["rows"]["cold-offensive"]["total"] < 1500
    assert built["rows"]["swsr-all"]["total"] < 5000
