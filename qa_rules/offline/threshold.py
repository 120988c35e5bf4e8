"""The operating threshold of an abusive-tone model, from out-of-fold probabilities of the dev parts.

Rules and model together: a row is flagged when a pattern rule fires or the model's probability
is at or over the threshold. The chosen threshold is the lowest that keeps the flagged share of
the negatives of every bounding dev set within its cap, the share being the mean over the
cross-validation runs (fold seeds) given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from qa_rules.offline.datasets import Example

THRESHOLDS = tuple(round(0.30 + 0.01 * i, 2) for i in range(70))


def choose_threshold(
    runs: Sequence[dict[str, list[float]]],
    sets: Mapping[str, list[Example]],
    flags: dict[str, list[bool]],
    max_fpr: Mapping[str, float],
) -> tuple[float, dict[str, dict[str, float]]]:
    """Lowest threshold keeping rules + model within ``max_fpr`` on every bounding dev set.

    ``runs`` are the out-of-fold probabilities of each fold seed; a set's rate at a threshold is
    the mean over the runs. The report gives, per set, the mean recall and false-positive rate
    at the chosen threshold and the lowest and highest rate of a single run (its spread).
    """

    def rates(name: str, thr: float) -> list[tuple[float, float]]:
        return [_rates(run[name], sets[name], flags[name], thr) for run in runs]

    def mean(values: Sequence[float]) -> float:
        return sum(values) / len(values)

    chosen = THRESHOLDS[-1]
    for thr in THRESHOLDS:
        if all(mean([f for _, f in rates(n, thr)]) <= cap for n, cap in max_fpr.items()):
            chosen = thr
            break
    report = {}
    for name in runs[0]:
        found = rates(name, chosen)
        fprs = [f for _, f in found]
        report[name] = {
            "recall": round(mean([r for r, _ in found]), 4),
            "fpr": round(mean(fprs), 4),
            "fpr_min": round(min(fprs), 4),
            "fpr_max": round(max(fprs), 4),
        }
    return chosen, report


def _rates(probs: list[float], examples: list[Example], flags: list[bool], thr: float) -> tuple[float, float]:
    tp = fp = pos = neg = 0
    for p, ex, flag in zip(probs, examples, flags, strict=True):
        hit = flag or p >= thr
        if ex.positive:
            pos += 1
            tp += hit
        else:
            neg += 1
            fp += hit
    return tp / max(pos, 1), fp / max(neg, 1)
