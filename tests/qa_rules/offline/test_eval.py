"""Held-out figures of the abusive-wording engine (test parts, never trained or tuned on).

Issue #11 goals on held-out text: COLD attack on an individual recall >= 0.55, OLID targeted
insult at an individual >= 0.50, collection-dialogue agent turns >= 0.80, each at a false-positive
rate <= 0.05. The assertions below are the measured figures (see README, "Abusive wording"),
with a small margin, so a regression fails; where a goal is not met the test holds the measured
level and says so.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_monitor.cli import main
from agent_monitor.model.audio import Leg
from qa_rules.engine import RuleSet
from qa_rules.offline.evaluate import Score, evaluate, pr_curve
from qa_rules.packs import ABUSE_CATEGORIES

#: measured recall of rules + classifier on the test parts (README), less a small margin
OLID_RECALL_FLOOR = 0.60  # measured 0.636 (21 of 33)
#: the 0.55 goal, met by 41 of 73 with no margin (40 would be 0.548; see README)
COLD_RECALL_FLOOR = 0.55  # measured 0.562 (41 of 73) at 0.047 false positives: the goal


@pytest.fixture(scope="module")
def scores(ruleset: RuleSet, eval_data: Path) -> dict[tuple[str, str], Score]:
    found = evaluate(ruleset, eval_data, ("cold", "olid", "collection"), "test", peer=True)
    return {(s.dataset, s.system.split(" (")[0]): s for s in found}


def test_false_positives_stay_under_five_percent(scores: dict[tuple[str, str], Score]) -> None:
    for name in ("cold/test", "olid/test", "collection/test"):
        engine = scores[(name, "rules + classifier")]
        assert engine.fpr <= 0.05, engine


def test_collection_agent_turns_meet_the_goal(scores: dict[tuple[str, str], Score]) -> None:
    engine = scores[("collection/test", "rules + classifier")]
    assert engine.recall >= 0.80, engine
    peer = scores[("collection/test", "alt-profanity-check p>=0.5")]
    assert engine.recall > peer.recall


def test_olid_and_cold_levels(scores: dict[tuple[str, str], Score]) -> None:
    olid = scores[("olid/test", "rules + classifier")]
    assert olid.recall >= OLID_RECALL_FLOOR, olid
    cold = scores[("cold/test", "rules + classifier")]
    assert cold.recall >= COLD_RECALL_FLOOR, cold
    assert cold.precision > 3 * scores[("cold/test", "substring: SexHateLex")].precision


def test_curve_summary() -> None:
    curve = pr_curve([True, False, True, False, False], [0.9, 0.8, 0.7, 0.1, 0.0])
    assert curve.average_precision == pytest.approx((1 / 2) * 1 + (1 / 2) * (2 / 3))
    assert curve.recall_at_fpr_05 == 0.5


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
    assert main(["eval", "rules", str(eval_data), "--sets", "olid", "collection"]) == 0
    out = capsys.readouterr().out
    for needle in (
        "rules only",
        "classifier only",
        "rules + classifier",
        "alt-profanity-check",
        "AP",
        "R@5%",
    ):
        assert needle in out
