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
    assert main(["rules", "train", "--lang", "zh", "--data", str(eval_data), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "threshold" in printed and "dev cold" in printed
    built = json.loads(out.read_text(encoding="utf-8"))
    shipped = json.loads((REPO_ROOT / "models" / "abuse" / "abuse-zh.json").read_text(encoding="utf-8"))
    for key in ("threshold", "min_length", "views", "features", "rows"):
        assert built[key] == shipped[key], key
    # dev parts only: no test rows
    assert set(built["rows"]) == {"cold", "cold-offensive", "swsr-all", "self-written"}
    assert built["rows"]["cold"]["total"] < 1000
    assert built["rows"]["cold-offensive"]["total"] < 1500
    assert built["rows"]["swsr-all"]["total"] < 5000
