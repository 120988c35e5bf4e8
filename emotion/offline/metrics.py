"""The figures of the stress evaluation: ROC AUC and unweighted accuracy."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from emotion.pitch import FloatArray


def auc(y: npt.NDArray[np.int_], score: FloatArray) -> float:
    """Area under the ROC curve (ties count half); NaN when a class is missing."""
    from scipy.stats import rankdata

    pos = y == 1
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def unweighted_accuracy(y: npt.NDArray[np.int_], score: FloatArray, threshold: float = 50.0) -> float:
    """Mean of the per-class recalls with ``score >= threshold`` meaning high arousal."""
    pred = score >= threshold
    recalls = [float(np.mean(pred[y == 1])), float(np.mean(~pred[y == 0]))] if len(np.unique(y)) == 2 else []
    return float(np.mean(recalls)) if recalls else float("nan")
