"""The JSON model scorer reproduces scikit-learn exactly, training is reproducible, and a score
names its evidence (the strongest cues and the range of text they cover)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from qa_rules.classifier import features, locate, widen_to_words
from qa_rules.engine import RuleSet
from qa_rules.offline.datasets import Example
from qa_rules.offline.train import RECIPES, fit, model_from, nb_ratio, set_weights

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

    recipe = replace(RECIPES["zh"], nb=False, views=())
    weights = set_weights([Example(t, bool(y)) for t, y in zip(TEXTS, LABELS, strict=True)], 1.0)
    doc = fit(TEXTS, LABELS, weights, "zh", recipe)
    model = model_from(doc, "zh")
    vec = TfidfVectorizer(
        analyzer=lambda t: sorted(features(t, recipe.spec)), binary=True, norm="l2", min_df=2
    )
    x = vec.fit_transform(TEXTS)
    clf = LogisticRegression(C=recipe.c, solver="liblinear", max_iter=2000)
    clf.fit(x, LABELS, sample_weight=np.array(weights))
    probe = ["你真恶心", "明天见", "废物人渣"]
    expected = clf.predict_proba(vec.transform(probe))[:, 1]
    got = np.array([model.score(t).probability for t in probe])
    assert np.allclose(got, expected, atol=1e-3)
    assert fit(TEXTS, LABELS, weights, "zh", recipe) == doc  # deterministic
    assert model.score("你真恶心").cues  # explains itself


def test_nb_scaled_model_is_stored_as_one_linear_function() -> None:
    """NB-LR: the regression runs on ratio-scaled columns; the file holds coefficient x ratio."""
    from scipy.sparse import diags
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    recipe = replace(RECIPES["zh"], views=())
    assert recipe.nb
    weights = set_weights([Example(t, bool(y)) for t, y in zip(TEXTS, LABELS, strict=True)], 1.0)
    model = model_from(fit(TEXTS, LABELS, weights, "zh", recipe), "zh")
    vec = TfidfVectorizer(
        analyzer=lambda t: sorted(features(t, recipe.spec)), binary=True, norm="l2", min_df=2
    )
    x = vec.fit_transform(TEXTS)
    y, w = np.array(LABELS), np.array(weights)
    ratio = nb_ratio(x, y, w)
    # the ratio by hand for one feature: weighted share of positive vs negative rows holding it
    j = vec.vocabulary_["废物"]
    has = np.asarray((x[:, j] > 0).todense()).ravel()
    pos_all = (w[y == 1] @ (x[y == 1] > 0).astype(float)).sum() + x.shape[1]
    neg_all = (w[y == 0] @ (x[y == 0] > 0).astype(float)).sum() + x.shape[1]
    by_hand = np.log(((w[has & (y == 1)].sum() + 1) / pos_all) / ((w[has & (y == 0)].sum() + 1) / neg_all))
    assert ratio[j] > 0 and np.isclose(ratio[j], by_hand)
    clf = LogisticRegression(C=recipe.c, solver="liblinear", max_iter=2000)
    clf.fit(x @ diags(ratio), y, sample_weight=w)
    probe = ["你真恶心", "明天见", "废物人渣"]
    expected = clf.predict_proba(vec.transform(probe) @ diags(ratio))[:, 1]
    got = np.array([model.score(t).probability for t in probe])
    assert np.allclose(got, expected, atol=1e-3)


def test_evidence_span_covers_the_cues() -> None:
    assert locate("w:waste my", "stop wasting my time") is None
    assert locate("w:my time", "stop wasting my time") == (13, 20)
    assert locate(" stu", "you stupid") == (4, 7)
    assert widen_to_words("you stupid fool", 5, 7) == (4, 10)
    assert widen_to_words("你真恶心", 2, 4) == (2, 4)
    assert locate("j:真 恶心", "你这人真恶心啊") == (3, 6)
    assert locate("j:废物", "你真恶心") is None


def test_chinese_word_features_are_jieba_words() -> None:
    feats = features("你就是个废物", {"zhword": [1, 2]})
    assert "j:废物" in feats and "j:个 废物" in feats
    assert not any(f.startswith("j:") and "废" in f and "物" not in f for f in feats)  # whole words
    assert features("你就是个废物", {"char": [1, 1]}) == set("你就是个废物")


def test_shipped_chinese_model_names_words_as_evidence(ruleset: RuleSet) -> None:
    model = ruleset.models["abuse-zh"]
    assert model.spec.get("zhword") == [1, 2]
    text = "你这个人真是恶心死了脑子有病吧"
    result = model.score(text)
    assert model.threshold is not None and result.probability >= model.threshold
    assert result.span is not None and result.cues
    assert any(cue in text for cue in result.cues)
    assert model.score("请问您这个月的账单什么时候方便还款").probability < model.threshold


def test_shipped_english_model_points_at_the_abusive_words(ruleset: RuleSet) -> None:
    model = ruleset.models["abuse-en"]
    text = "thanks for calling . hurry the hell up"
    result = model.score(text)
    assert result.probability > 0.5
    assert result.span is not None
    start, end = result.span
    assert start >= text.index("hurry") and "hell" in text[start:end], text[start:end]
    assert model.score("thanks for calling . have a nice day").probability < 0.2


def test_two_view_model_averages_the_views_log_odds() -> None:
    """Characters and jieba words, each its own TF-IDF norm and NB-LR; the file averages their logits."""
    from scipy.sparse import diags
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    recipe = replace(RECIPES["zh"], views=({"char": [1, 3]}, {"zhword": [1, 2]}))
    weights = set_weights([Example(t, bool(y)) for t, y in zip(TEXTS, LABELS, strict=True)], 1.0)
    doc = fit(TEXTS, LABELS, weights, "zh", recipe)
    assert [v["features"] for v in doc["views"]] == [{"char": [1, 3]}, {"zhword": [1, 2]}]
    model = model_from(doc, "zh")
    probe = ["你真恶心", "明天见", "废物人渣"]
    y, w = np.array(LABELS), np.array(weights)
    logits = []
    for spec in recipe.views:
        vec = TfidfVectorizer(analyzer=lambda t, s=spec: sorted(features(t, s)), binary=True, min_df=2)
        x = vec.fit_transform(TEXTS)
        ratio = nb_ratio(x, y, w)
        clf = LogisticRegression(C=recipe.c, solver="liblinear", max_iter=2000)
        clf.fit(x @ diags(ratio), y, sample_weight=w)
        logits.append(clf.decision_function(vec.transform(probe) @ diags(ratio)))
    expected = 1 / (1 + np.exp(-np.mean(logits, axis=0)))
    got = np.array([model.score(t).probability for t in probe])
    assert np.allclose(got, expected, atol=1e-3)
    assert model.spec == {"char": [1, 3], "zhword": [1, 2]}
    assert fit(TEXTS, LABELS, weights, "zh", recipe, {}) == doc  # the n-gram cache changes nothing
