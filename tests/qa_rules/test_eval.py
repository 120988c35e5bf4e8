"""Accuracy on the development data and on the hand-written collection dialogue.

Thresholds are the acceptance targets of issue 3 (false-positive rate <= 5% on safe text, recall
>= 50% of insults aimed at a person, >= 80% of agent profanity in dialogue). Measured when these
tests were written (``agent-monitor eval rules``): COLD rules + model with the model refitted in
5-fold cross-validation: recall 0.511, FPR 0.043, precision 0.503 (pack-lexicon substring
baseline: precision 0.391 at FPR 0.058; SexHateLex: 0.115 at 0.504); OLID rules: recall 0.574,
FPR 0.030, precision 0.775 (baseline 0.165 at FPR 0.880). The COLD row of the shipped model alone
is in-sample (the model was fitted on those rows) and is not asserted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_monitor.cli import main
from agent_monitor.model.audio import Leg
from qa_rules.engine import RuleSet
from qa_rules.evaluate import Score, evaluate
from qa_rules.packs import ABUSE_CATEGORIES


@pytest.fixture(scope="module")
def scores(ruleset: RuleSet, eval_data: Path) -> dict[tuple[str, str], Score]:
    return {(s.dataset, s.system): s for s in evaluate(ruleset, eval_data)}


def test_cold_held_out_meets_targets(scores: dict[tuple[str, str], Score]) -> None:
    cv = scores[("cold", "rules + model, 5-fold CV")]
    assert cv.fpr <= 0.05, cv
    assert cv.recall >= 0.50, cv
    baseline = scores[("cold", "substring: pack lexicon")]
    public = scores[("cold", "substring: SexHateLex")]
    assert cv.precision > baseline.precision + 0.05
    assert cv.precision > 4 * public.precision


def test_olid_meets_targets(scores: dict[tuple[str, str], Score]) -> None:
    engine = scores[("olid", "rules + model")]
    assert engine.fpr <= 0.05, engine
    assert engine.recall >= 0.50, engine
    assert engine.precision > 3 * scores[("olid", "substring: pack lexicon")].precision


def test_agent_profanity_in_collection_dialogue(ruleset: RuleSet, dialogue: list[dict[str, str]]) -> None:
    for lang in ("en", "zh"):
        rows = [r for r in dialogue if r["lang"] == lang and r["leg"] == "agent"]
        profane = [r["text"] for r in rows if r["label"] == "profanity"]
        caught = [
            t for t in profane if any(h.category == "profanity" for h in ruleset.check(t, lang, Leg.AGENT))
        ]
        assert len(profane) >= 20
        assert len(caught) / len(profane) >= 0.80, sorted(set(profane) - set(caught))
        abusive = [r["text"] for r in rows if r["label"] in ("insult", "threat")]
        flagged = [t for t in abusive if ruleset.check(t, lang, Leg.AGENT)]
        assert len(flagged) / len(abusive) >= 0.80
        clean = [r["text"] for r in rows if r["label"] == "clean"]
        false_alarms = [
            t for t in clean if any(h.category in ABUSE_CATEGORIES for h in ruleset.check(t, lang, Leg.AGENT))
        ]
        assert len(false_alarms) / len(clean) <= 0.05, false_alarms


def test_eval_command_prints_the_table(eval_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "rules", str(eval_data)]) == 0
    out = capsys.readouterr().out
    for needle in ("precision", "recall", "FPR", "cold", "olid", "5-fold CV", "substring: pack lexicon"):
        assert needle in out
