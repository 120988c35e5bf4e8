"""Training the stress model with leave-speaker-out cross-validation.

Rows: one per clip and listening condition (original rate and 8 kHz mu-law, so the model learns
what survives a phone line). The absolute scorer sees clip features; the relative scorer sees clip
features minus the speaker's baseline (their neutral clips, :func:`emotion.dataset.baseline_clips`),
baseline clips themselves excluded. Every corpus gets the same total weight, classes are balanced.

Cross-validation holds out one speaker at a time (both conditions of all their clips); its
out-of-fold decision values give the figures in the training report and the Platt calibration of
the final model, which is then fitted on all speakers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from agent_monitor.errors import DatasetError
from emotion.baseline import SpeakerBaseline
from emotion.dataset import CONDITIONS, ClipTable, baseline_clips
from emotion.features import FEATURE_NAMES, WindowFeatures
from emotion.model import LinearScorer, StressModel
from emotion.pitch import FloatArray

ABSOLUTE_FEATURES = tuple(f for f in FEATURE_NAMES if f != "loud_db")
#: the training report also scores every held-out speaker with up to this many different baselines
BASELINE_CHOICES = 8
RELATIVE_FEATURES = FEATURE_NAMES


@dataclass(frozen=True)
class TrainConfig:
    #: inverse L2 regularisation strength of the logistic regressions
    c_absolute: float = 0.1
    c_relative: float = 0.1
    absolute_features: tuple[str, ...] = ABSOLUTE_FEATURES
    relative_features: tuple[str, ...] = RELATIVE_FEATURES
    #: relative rows are built with this many different baselines per speaker (where the speaker
    #: has that many groups of neutral/calm clips); evaluation always uses the first
    baseline_variants: int = 1

    def to_json(self) -> dict[str, Any]:
        return {
            "c_absolute": self.c_absolute,
            "c_relative": self.c_relative,
            "baseline_variants": self.baseline_variants,
            "absolute_features": list(self.absolute_features),
            "relative_features": list(self.relative_features),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainConfig:
        return cls(
            c_absolute=float(data["c_absolute"]),
            c_relative=float(data["c_relative"]),
            absolute_features=tuple(data["absolute_features"]),
            relative_features=tuple(data["relative_features"]),
            baseline_variants=int(data.get("baseline_variants", 1)),
        )


@dataclass
class Rows:
    """Training/evaluation rows of one mode: features, labels, weights and bookkeeping."""

    x: FloatArray
    y: npt.NDArray[np.int_]
    speaker: npt.NDArray[np.str_]
    corpus: npt.NDArray[np.str_]
    condition: npt.NDArray[np.str_]
    clip: npt.NDArray[np.int_] = field(default_factory=lambda: np.zeros(0, int))

    def take(self, mask: npt.NDArray[np.bool_]) -> Rows:
        return Rows(
            self.x[mask],
            self.y[mask],
            self.speaker[mask],
            self.corpus[mask],
            self.condition[mask],
            self.clip[mask],
        )

    def __len__(self) -> int:
        return int(self.y.shape[0])


def speaker_baselines(table: ClipTable, condition: str, variant: int = 0) -> dict[str, FloatArray]:
    """Baseline feature vector of every speaker that has neutral/calm clips, in one condition."""
    out = {}
    for key, idx in baseline_clips(table, variant).items():
        windows = [
            WindowFeatures(table.features[condition][i], 0.0, float(table.voiced_s[condition][i]), 0.0)
            for i in idx
        ]
        out[key] = SpeakerBaseline.from_windows(windows).value
    return out


def absolute_rows(table: ClipTable, conditions: tuple[str, ...] = CONDITIONS) -> Rows:
    parts = []
    n = len(table.clips)
    for cond in conditions:
        parts.append(
            Rows(table.features[cond], table.y, table.speakers, table.corpora, np.full(n, cond), np.arange(n))
        )
    return _concat(parts)


def relative_rows(table: ClipTable, conditions: tuple[str, ...] = CONDITIONS, variants: int = 1) -> Rows:
    """Clip features minus the speaker's baseline; baseline clips and speakers without one left out.

    ``variants`` > 1 (training only) repeats this with the speaker's next baseline groups
    (:func:`emotion.dataset.baseline_clips`), which multiplies the relative training rows.
    """
    if variants > 1:
        return _concat([_relative_rows(table, conditions, k) for k in range(variants)])
    return _relative_rows(table, conditions, 0)


def _relative_rows(table: ClipTable, conditions: tuple[str, ...], variant: int) -> Rows:
    chosen = baseline_clips(table, variant)
    in_baseline = np.zeros(len(table.clips), bool)
    for idx in chosen.values():
        in_baseline[idx] = True
    has_base = np.array([k in chosen for k in table.speakers])
    keep = has_base & ~in_baseline
    parts = []
    for cond in conditions:
        bases = speaker_baselines(table, cond, variant)
        x = table.features[cond].copy()
        for i in np.flatnonzero(keep):
            x[i] -= bases[table.speakers[i]]
        n = len(table.clips)
        parts.append(
            Rows(x, table.y, table.speakers, table.corpora, np.full(n, cond), np.arange(n)).take(keep)
        )
    return _concat(parts)


def _concat(parts: list[Rows]) -> Rows:
    return Rows(
        np.vstack([p.x for p in parts]),
        np.concatenate([p.y for p in parts]),
        np.concatenate([p.speaker for p in parts]),
        np.concatenate([p.corpus for p in parts]),
        np.concatenate([p.condition for p in parts]),
        np.concatenate([p.clip for p in parts]),
    )


def sample_weights(rows: Rows) -> FloatArray:
    """Equal total weight per corpus and, within a corpus, per class."""
    w = np.zeros(len(rows))
    corpora = np.unique(rows.corpus)
    for corpus in corpora:
        for label in (0, 1):
            m = (rows.corpus == corpus) & (rows.y == label)
            if m.any():
                w[m] = 1.0 / (2 * len(corpora) * m.sum())
    return w * len(rows)


def fit_scorer(rows: Rows, features: tuple[str, ...], c: float) -> LinearScorer:
    """Standardise ``features`` and fit a weighted, L2-regularised logistic regression."""
    from sklearn.linear_model import LogisticRegression

    if len(np.unique(rows.y)) < 2:
        raise DatasetError("training needs both high- and low-arousal clips")
    idx = [FEATURE_NAMES.index(f) for f in features]
    x = rows.x[:, idx]
    w = sample_weights(rows)
    mean = np.average(x, axis=0, weights=w)
    scale = np.sqrt(np.average((x - mean) ** 2, axis=0, weights=w))
    scale = np.where(scale > 1e-9, scale, 1.0)
    lr = LogisticRegression(C=c, max_iter=5000)
    lr.fit((x - mean) / scale, rows.y, sample_weight=w)
    return LinearScorer(features, mean, scale, lr.coef_[0].astype(float), float(lr.intercept_[0]))


def platt(decision: FloatArray, y: npt.NDArray[np.int_], w: FloatArray) -> tuple[float, float]:
    """Calibration ``(a, c)`` so that ``sigmoid(a * decision + c)`` fits the labels."""
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e4, max_iter=5000)
    lr.fit(decision.reshape(-1, 1), y, sample_weight=w)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def calibrated(scorer: LinearScorer, a: float, c: float) -> LinearScorer:
    return LinearScorer(scorer.features, scorer.mean, scorer.scale, scorer.coef, scorer.intercept, a, c)


def loso_decisions(train_rows: Rows, test_rows: Rows, features: tuple[str, ...], c: float) -> FloatArray:
    """Out-of-fold decision value of every test row, fitted without that row's speaker."""
    out = np.full(len(test_rows), np.nan)
    for spk in np.unique(test_rows.speaker):
        test = test_rows.speaker == spk
        scorer = fit_scorer(train_rows.take(train_rows.speaker != spk), features, c)
        out[test] = scorer.decision(test_rows.x[test])
    return out


def baseline_choice(
    table: ClipTable, fit_rows: Rows, features: tuple[str, ...], c: float
) -> list[dict[str, Any]]:
    """How much the with-baseline AUC depends on which neutral clips form the baseline.

    The cross-validation above gives each held-out speaker the baseline the evaluation uses (their
    first neutral clips). Here the same leave-speaker-out models score each speaker again with
    their k-th group of neutral/calm clips as the baseline, k < :data:`BASELINE_CHOICES`; per corpus
    and condition the AUC over the k that at least two speakers have: mean, min and max.
    """
    per: dict[tuple[str, str], list[float]] = {}
    held_out: dict[str, LinearScorer] = {}  # one model per held-out speaker, whatever the baseline
    for k in range(BASELINE_CHOICES):
        rows = _relative_rows(table, CONDITIONS, k)
        if len(rows) == 0:
            continue
        oof = np.full(len(rows), np.nan)
        for spk in np.unique(rows.speaker):
            if spk not in held_out:
                held_out[spk] = fit_scorer(fit_rows.take(fit_rows.speaker != spk), features, c)
            test = rows.speaker == spk
            oof[test] = held_out[spk].decision(rows.x[test])
        for corpus in np.unique(rows.corpus):
            for cond in CONDITIONS:
                m = (rows.corpus == corpus) & (rows.condition == cond)
                if len(np.unique(rows.speaker[m])) >= 2 and len(np.unique(rows.y[m])) == 2:
                    per.setdefault((str(corpus), cond), []).append(auc(rows.y[m], oof[m]))
    return [
        {
            "corpus": corpus,
            "condition": cond,
            "baselines": len(v),
            "auc_mean": round(float(np.mean(v)), 4),
            "auc_min": round(float(np.min(v)), 4),
            "auc_max": round(float(np.max(v)), 4),
        }
        for (corpus, cond), v in sorted(per.items())
    ]


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


@dataclass(frozen=True)
class TrainResult:
    model: StressModel
    #: rows of (corpus, condition, mode, n, auc, ua) from leave-speaker-out cross-validation
    cv: list[dict[str, Any]]


def train(
    table: ClipTable, config: TrainConfig | None = None, sources: list[str] | None = None
) -> TrainResult:
    """Cross-validate, calibrate and fit the final model on every speaker of ``table``."""
    config = config or TrainConfig()
    speakers = sorted(set(table.speakers.tolist()))
    if len(speakers) < 3:
        raise DatasetError(f"leave-speaker-out training needs at least 3 speakers, found {len(speakers)}")
    absolute = absolute_rows(table)
    modes = {
        "absolute": (absolute, absolute, config.absolute_features, config.c_absolute),
        "relative": (
            relative_rows(table, variants=config.baseline_variants),
            relative_rows(table),
            config.relative_features,
            config.c_relative,
        ),
    }
    scorers: dict[str, LinearScorer] = {}
    cv: list[dict[str, Any]] = []
    for mode, (fit_rows, rows, features, c) in modes.items():
        oof = loso_decisions(fit_rows, rows, features, c)
        a, b = platt(oof, rows.y, sample_weights(rows))
        scores = 100.0 / (1.0 + np.exp(-(a * oof + b)))
        for corpus in np.unique(rows.corpus):
            for cond in CONDITIONS:
                m = (rows.corpus == corpus) & (rows.condition == cond)
                cv.append(
                    {
                        "corpus": str(corpus),
                        "condition": cond,
                        "mode": "with baseline" if mode == "relative" else "no baseline",
                        "n": int(m.sum()),
                        "auc": round(auc(rows.y[m], scores[m]), 4),
                        "ua": round(unweighted_accuracy(rows.y[m], scores[m]), 4),
                    }
                )
        scorers[mode] = calibrated(fit_scorer(fit_rows, features, c), a, b)
    choice = baseline_choice(table, modes["relative"][0], config.relative_features, config.c_relative)
    counts = {
        str(corpus): {
            "clips": int((table.corpora == corpus).sum()),
            "speakers": len(set(table.speakers[table.corpora == corpus].tolist())),
            "high": int(((table.corpora == corpus) & (table.y == 1)).sum()),
        }
        for corpus in np.unique(table.corpora)
    }
    training = {
        "sources": sources or [],
        "corpora": counts,
        "excluded": list(table.excluded),
        "speakers": speakers,
        "config": config.to_json(),
        "cross_validation": cv,
        "baseline_choice": choice,
    }
    return TrainResult(StressModel(scorers["absolute"], scorers["relative"], training), cv)
