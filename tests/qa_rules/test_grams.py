"""Training's n-gram matrices give scikit-learn's own count matrices, entry for entry and in order,
and its matrix scoring gives the one-text scorer's probabilities."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from qa_rules.classifier import features
from qa_rules.offline.datasets import Example
from qa_rules.offline.grams import GramMatrix, probabilities
from qa_rules.offline.train import RECIPES, fit, fit_rows, model_from, set_weights
from tests.qa_rules import test_classifier as classifier_tests

# the classifier tests' eight texts and four more (abusive and not, in turn)
TEXTS = [*classifier_tests.TEXTS, "你这个人渣滚开", "明天天气好吗", "废物你就是废物", "谢谢你今天的帮助"]
LABELS = [*classifier_tests.LABELS, 1, 0, 1, 0]
SPECS = [{"char": [1, 3]}, {"zhword": [1, 2]}, {"char": [1, 3], "zhword": [1, 2]}]
ROWS = [list(range(12)), [11, 3, 5, 0, 7, 9, 1], [2, 4, 6, 8, 10, 1, 3]]


def _same(ours: object, theirs: object) -> None:
    assert type(ours) is type(theirs)
    for name in ("indices", "indptr", "data"):
        a, b = getattr(ours, name), getattr(theirs, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    assert ours.shape == theirs.shape  # type: ignore[attr-defined]


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("rows", ROWS)
def test_counts_are_the_vectorizers_own(spec: dict[str, list[int]], rows: list[int]) -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    grams = GramMatrix.build(TEXTS, spec)
    texts = [TEXTS[i] for i in rows]
    vec = CountVectorizer(
        analyzer=lambda t: sorted(features(t, spec)), binary=True, min_df=2, dtype=np.float64
    )
    expected = vec.fit_transform(texts)
    counts, columns = grams.counts(np.array(rows), 2)
    _same(counts, expected)
    assert grams.names[columns].tolist() == vec.get_feature_names_out().tolist()
    chosen = columns[::2]
    fixed = CountVectorizer(
        analyzer=lambda t: sorted(features(t, spec)),
        binary=True,
        dtype=np.float64,
        vocabulary=grams.names[chosen].tolist(),
    )
    _same(grams.restricted(np.array(rows), chosen), fixed.fit_transform(texts))


def test_matrix_scores_are_the_scorers() -> None:
    recipe = replace(RECIPES["zh"], max_features=40)
    rows = np.array(ROWS[1])
    labels = [LABELS[i] for i in rows]
    examples = [Example(TEXTS[i], bool(y)) for i, y in zip(rows, labels, strict=True)]
    weights = set_weights(examples, 1.0)
    grams = [GramMatrix.build(TEXTS, view) for view in recipe.views]
    part, columns = fit_rows(grams, rows, labels, weights, recipe)
    assert part == fit([TEXTS[i] for i in rows], labels, weights, "zh", recipe)
    model = model_from(part, "zh")
    every = np.arange(len(TEXTS))
    expected = [model.score(t).probability for t in TEXTS]
    assert probabilities(grams, every, part, columns) == pytest.approx(expected, rel=1e-12, abs=1e-15)
