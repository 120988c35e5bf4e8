"""The JSON model scorer reproduces scikit-learn exactly, and training is reproducible."""

from __future__ import annotations

import numpy as np

from qa_rules.classifier import features
from qa_rules.train import SPECS, fit, model_from

TEXTS = [
    "你这种人真恶心",
    "今天天气很好",
    "你就是个废物",
    "我们明天见",
    "恶心的人渣",
    "谢谢你的帮助",
    "滚开废物",
    "好的没问题",
]
LABELS = [1, 0, 1, 0, 1, 0, 1, 0]


def test_json_scorer_matches_sklearn() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    spec = SPECS["zh"]
    doc = fit(TEXTS, LABELS, "zh")
    model = model_from(doc, "zh")
    vec = TfidfVectorizer(analyzer=lambda t: sorted(features(t, spec)), binary=True, norm="l2", min_df=2)
    x = vec.fit_transform(TEXTS)
    clf = LogisticRegression(C=4.0, class_weight="balanced", solver="liblinear", max_iter=1000).fit(x, LABELS)
    probe = ["你真恶心", "明天见", "废物人渣"]
    expected = clf.predict_proba(vec.transform(probe))[:, 1]
    got = np.array([model.score(t).probability for t in probe])
    assert np.allclose(got, expected, atol=1e-3)
    assert fit(TEXTS, LABELS, "zh") == doc  # deterministic
    assert model.score("你真恶心").cues  # explains itself
