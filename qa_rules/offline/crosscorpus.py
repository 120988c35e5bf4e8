"""Cross-corpus check of the classifier recipe: train on set A's dev part, test on set B's test part.

``agent-monitor eval rules --cross-corpus`` prints, per language, one row per training source
(each public set alone, and the shipped recipe: all of them plus the self-written sentences) and
one column per test set: average precision and recall at a false-positive rate of at most 5%
(classifier alone, threshold-free summaries of the curve). A model that only fits its own corpus
shows high figures on the diagonal and low ones elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from qa_rules.offline.datasets import load
from qa_rules.offline.evaluate import Curve, pr_curve
from qa_rules.offline.train import RECIPES, fit, model_from, training_data
from qa_rules.text import prepare

#: training sources: a set alone (the collection source takes both legs' turns)
SOURCES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {"olid": ("olid",), "davidson": ("davidson",), "collection": ("collection", "collection-debtor")},
    "zh": {"cold": ("cold",), "swsr": ("swsr",)},
}
TARGETS: dict[str, tuple[str, ...]] = {"en": ("olid", "davidson", "collection"), "zh": ("cold", "swsr")}


@dataclass(frozen=True, slots=True)
class Cell:
    train: str
    test: str
    curve: Curve


def cross_corpus(lang: str, data_dir: Path) -> list[Cell]:
    """Every (training source, test set) pair of ``lang``, plus the shipped recipe as a source."""
    recipe = RECIPES[lang]
    tests = {n: load(n, data_dir, "test") for n in TARGETS[lang]}
    prepared = {n: [prepare(e.text, lang).match for e in ex] for n, ex in tests.items()}
    sources: dict[str, Sequence[str]] = dict(SOURCES[lang])
    sources["recipe (all + self-written)"] = tuple(recipe.weights)
    cells = []
    for source, sets in sources.items():
        data = training_data(lang, data_dir, recipe, sets)
        texts, labels, weights = data.rows(lambda n, e: True)
        model = model_from(fit(texts, labels, weights, lang, recipe), lang)
        for name, examples in tests.items():
            probs = [model.score(t).probability for t in prepared[name]]
            cells.append(Cell(source, name, pr_curve([e.positive for e in examples], probs)))
    return cells


def format_cross(lang: str, cells: list[Cell]) -> str:
    """A train x test table of ``AP / recall@FPR5%``."""
    tests = list(dict.fromkeys(c.test for c in cells))
    corner = "train on (dev part) / test on (test part)"
    head = f"{corner:42}" + "".join(f"{t:>20}" for t in tests)
    lines = [f"[{lang}] classifier alone: average precision / recall at FPR <= 5%", head, "-" * len(head)]
    for source in dict.fromkeys(c.train for c in cells):
        row = f"{source:42}"
        for t in tests:
            c = next(x for x in cells if x.train == source and x.test == t).curve
            row += f"{c.average_precision:>12.3f} / {c.recall_at_fpr_05:.2f}"
        lines.append(row)
    return "\n".join(lines)
