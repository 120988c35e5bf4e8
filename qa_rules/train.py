"""Train the abuse model offline: ``python -m qa_rules.train --lang zh [--data DIR] [--out FILE]``.

Character n-gram logistic regression (scikit-learn) on the development split, written as JSON
(intercept, per-feature coefficient and idf) that :mod:`qa_rules.classifier` scores without
scikit-learn. Training is deterministic (fixed seeds, liblinear). The command also prints 5-fold
cross-validated figures: recall of the model alone at the false-positive rates of interest, so the
threshold in the pack is chosen on held-out folds, never on rows the model was fitted on.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent_monitor.settings import load_settings
from qa_rules.classifier import FORMAT, AbuseModel, features
from qa_rules.evaluate import DATASETS
from qa_rules.text import prepare

SPECS: dict[str, dict[str, list[int]]] = {"zh": {"char": [1, 3]}, "en": {"char": [3, 5], "word": [1, 2]}}
DATASET_FOR = {"zh": "cold", "en": "olid"}
C = 4.0
MIN_DF = 2


def fit(texts: list[str], labels: list[int], lang: str) -> dict[str, Any]:
    """Fit one model on prepared texts; return the ``intercept``/``weights`` part of the document."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    spec = SPECS[lang]

    def analyzer(text: str) -> list[str]:
        return sorted(features(text, spec))

    vec = TfidfVectorizer(analyzer=analyzer, binary=True, norm="l2", min_df=MIN_DF)
    x = vec.fit_transform(texts)
    clf = LogisticRegression(C=C, class_weight="balanced", solver="liblinear", max_iter=1000)
    clf.fit(x, np.array(labels))
    idf = vec.idf_
    coef = clf.coef_[0]
    weights = {
        feat: [round(float(coef[j]), 5), round(float(idf[j]), 5)]
        for feat, j in sorted(vec.vocabulary_.items())
    }
    return {"features": spec, "intercept": round(float(clf.intercept_[0]), 6), "weights": weights}


def model_from(doc: dict[str, Any], lang: str) -> AbuseModel:
    """An in-memory :class:`AbuseModel` from a fitted document part (for cross-validation)."""
    return AbuseModel(
        name=f"abuse-{lang}-fold",
        version="cv",
        lang=lang,
        spec=doc["features"],
        intercept=doc["intercept"],
        weights={k: (v[0], v[1]) for k, v in doc["weights"].items()},
        description="cross-validation fold",
        path="",
        dataset="",
    )


def folds(labels: list[int], k: int = 5, seed: int = 0) -> list[tuple[list[int], list[int]]]:
    """Stratified k-fold (train, test) index lists, deterministic."""
    from sklearn.model_selection import StratifiedKFold

    split = StratifiedKFold(k, shuffle=True, random_state=seed).split(labels, labels)
    return [(list(tr), list(te)) for tr, te in split]


def train(lang: str, data_dir: Path) -> tuple[dict[str, Any], dict[str, float]]:
    """Fit on every development row; return the model document and cross-validated figures."""
    import numpy as np

    spec = SPECS[lang]
    _, loader = DATASETS[DATASET_FOR[lang]]
    rows = loader(data_dir)
    texts = [prepare(r.text, lang).match for r in rows]
    y = np.array([int(r.positive) for r in rows])
    oof = np.zeros(len(rows))
    for tr, te in folds(list(y)):
        model = model_from(fit([texts[i] for i in tr], [int(y[i]) for i in tr], lang), lang)
        oof[te] = [model.score(texts[i]).probability for i in te]
    cv: dict[str, float] = {}
    neg = np.sort(oof[y == 0])
    for fpr in (0.01, 0.02, 0.03, 0.05):
        thr = float(neg[int(np.ceil(len(neg) * (1 - fpr))) - 1])
        cv[f"threshold_at_fpr_{fpr:.2f}"] = round(thr, 4)
        cv[f"recall_at_fpr_{fpr:.2f}"] = round(float((oof[y == 1] > thr).mean()), 4)
    fitted = fit(texts, [int(v) for v in y], lang)
    doc = {
        "format": FORMAT,
        "name": f"abuse-{lang}",
        "version": "1.0.0",
        "lang": lang,
        "dataset": DATASET_FOR[lang],
        "description": (
            f"{'+'.join(f'{k} {v[0]}-{v[1]}-gram' for k, v in spec.items())} logistic regression "
            f"trained on the {DATASET_FOR[lang].upper()} development split"
        ),
        "trained": datetime.now(UTC).strftime("%Y-%m-%d"),
        "command": f"python -m qa_rules.train --lang {lang}",
        "rows": {"positive": int(y.sum()), "negative": int(len(y) - y.sum())},
        "hyperparameters": {"C": C, "min_df": MIN_DF, "class_weight": "balanced", "solver": "liblinear"},
        "cross_validation": cv,
        **fitted,
    }
    return doc, cv


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa_rules.train", description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=sorted(SPECS), required=True)
    parser.add_argument("--data", type=Path, help="evaluation data folder (default: settings.eval_data_dir)")
    parser.add_argument(
        "--out", type=Path, help="output file (default: settings.rules.model_dir/abuse-LANG.json)"
    )
    args = parser.parse_args(argv)
    settings = load_settings()
    data = args.data or settings.eval_data_dir
    out = args.out or settings.rules.model_dir / f"abuse-{args.lang}.json"
    doc, cv = train(args.lang, data)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {out} ({out.stat().st_size // 1024} KiB, {len(doc['weights'])} features)")
    for key, value in cv.items():
        print(f"  cv {key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
