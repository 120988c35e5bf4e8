"""Evaluation per line condition: AUC and unweighted accuracy, high vs low arousal, held-out speakers.

Every speaker of the evaluated folder is scored by a model that never heard them:

* a speaker the shipped model was **not** trained on is scored by the shipped model itself;
* a speaker it **was** trained on (evaluating the development data) is scored by a model refitted
  without that speaker (same configuration and calibration; C chosen again by inner
  cross-validation over the remaining speakers): leave-speaker-out.

Figures per corpus and per condition of :mod:`agent_monitor.audio.conditions` (every clip of the
corpus through the same simulated line), without a baseline (absolute scorer) and with one
(relative scorer; baseline from the speaker's neutral clips on the same line, which are then not
scored). The threshold for unweighted accuracy is score 50. Clips with too little voiced speech on
a line are not scored there (counted in ``unscored``).

**Calm-clip shift**: the no-baseline score of every low-arousal clip on each line minus its score
clean. A line should not make a calm speaker look stressed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from agent_monitor.audio.conditions import CONDITIONS, parse_conditions
from agent_monitor.errors import ConfigError, DatasetError
from emotion.model import StressModel
from emotion.offline.dataset import ClipTable
from emotion.offline.metrics import auc, unweighted_accuracy
from emotion.offline.rows import Rows, absolute_rows, relative_rows
from emotion.offline.training import TrainConfig, calibrated, fit_selected, training_rows
from emotion.pitch import FloatArray

MODES = ("no baseline", "with baseline")


def is_gain_and_codec(condition: str) -> bool:
    """True for a line that changes only the level and the coding (a grid line or a composed one
    such as ``gsm+gain-30``): no noise added, no packet lost. A calm clip's score must not move
    across these."""
    try:
        (line,) = parse_conditions(condition)
    except (ConfigError, ValueError):
        return False
    return line.noise is None and line.loss == 0


#: the grid's lines a calm clip's score must not move across (gain and codec, no noise, no loss)
GAIN_AND_CODEC = tuple(name for name in CONDITIONS if is_gain_and_codec(name))


@dataclass(frozen=True, slots=True)
class EvalRow:
    corpus: str
    condition: str
    mode: str
    n: int
    n_speakers: int
    auc: float
    ua: float
    #: speakers scored by a refitted leave-speaker-out model rather than the shipped one
    refitted: int
    #: clips of the corpus with too little voiced speech on this line to be scored
    unscored: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "corpus": self.corpus,
            "condition": self.condition,
            "mode": self.mode,
            "n": self.n,
            "speakers": self.n_speakers,
            "auc": round(self.auc, 4),
            "ua": round(self.ua, 4),
            "refitted_speakers": self.refitted,
            "unscored": self.unscored,
        }


@dataclass(frozen=True, slots=True)
class CalmShift:
    """No-baseline scores of the low-arousal clips on one line, against the same clips clean."""

    condition: str
    n: int
    mean_score: float
    mean_shift: float
    #: largest absolute shift of any one clip
    max_abs_shift: float

    def as_dict(self) -> dict[str, object]:
        return {
            "condition": self.condition,
            "n": self.n,
            "mean_score": round(self.mean_score, 2),
            "mean_shift": round(self.mean_shift, 2),
            "max_abs_shift": round(self.max_abs_shift, 2),
        }


@dataclass(frozen=True)
class Evaluation:
    rows: list[EvalRow]
    calm: list[CalmShift]
    #: per low-arousal clip, the largest |shift| over :data:`GAIN_AND_CODEC` lines that were measured
    calm_worst: FloatArray

    def as_dict(self) -> dict[str, object]:
        w = self.calm_worst
        return {
            "auc": [r.as_dict() for r in self.rows],
            "calm_shift": [c.as_dict() for c in self.calm],
            "calm_worst_shift_gain_codec": {
                "clips": len(w),
                "median": round(float(np.median(w)), 2) if len(w) else None,
                "p90": round(float(np.percentile(w, 90)), 2) if len(w) else None,
                "within_10": int(np.count_nonzero(w <= 10.0)),
            },
        }


def evaluate(
    table: ClipTable,
    model: StressModel,
    pool: ClipTable | None = None,
    conditions: Sequence[str] | None = None,
) -> Evaluation:
    """Score every clip of ``table`` on each line with a model that has not heard its speaker.

    ``pool`` is the model's training data (measured with its training lines); it is needed only
    when ``table`` shares speakers with the model (the development set), to refit without each
    shared speaker. ``conditions`` default to every grid condition ``table`` was measured in.
    """
    conds = list(conditions or [c for c in table.conditions if not c.startswith("aug")])
    shared = sorted(set(table.speakers.tolist()) & model.training_speakers)
    if shared and pool is None:
        raise DatasetError(
            f"{len(shared)} evaluated speaker(s) were used to train the model; leave-speaker-out "
            "evaluation needs the training data (settings eval_data_dir)"
        )
    config = TrainConfig.from_json(model.training["config"]) if shared else TrainConfig()
    fit_sets = training_rows(pool, config) if shared and pool is not None else {}
    out: list[EvalRow] = []
    calm: tuple[list[CalmShift], FloatArray] = ([], np.zeros(0))
    for mode in MODES:
        relative = mode == "with baseline"
        rows = relative_rows(table, conds) if relative else absolute_rows(table, conds)
        if len(rows) == 0:
            continue
        scores = np.full(len(rows), np.nan)
        shipped = model.relative if relative else model.absolute
        own = np.isin(rows.speaker, shared)
        scores[~own] = shipped.score(rows.x[~own])
        key = "relative" if relative else "absolute"
        features = config.relative_features if relative else config.absolute_features
        for spk in shared:
            m = rows.speaker == spk
            if m.any():
                fit = fit_sets[key]
                stable = 0.0 if relative else config.min_stability_absolute
                train = fit.take(fit.speaker != spk)
                refit, _ = fit_selected(train, features, config.c_grid, stable, config.line_penalty(key))
                scores[m] = calibrated(refit, shipped.calib_a, shipped.calib_c).score(rows.x[m])
        out += _summarise(table, rows, scores, mode, set(shared), conds)
        if not relative:
            calm = _calm_shift(rows, scores, conds)
    return Evaluation(out, *calm)


def _summarise(
    table: ClipTable, rows: Rows, scores: FloatArray, mode: str, shared: set[str], conds: list[str]
) -> list[EvalRow]:
    out = []
    for name in sorted(set(table.corpora.tolist())):
        in_corpus = table.corpora == name
        for cond in conds:
            m = (rows.corpus == name) & (rows.condition == cond)
            if not m.any():
                continue
            spk = set(rows.speaker[m].tolist())
            out.append(
                EvalRow(
                    corpus=name,
                    condition=cond,
                    mode=mode,
                    n=int(m.sum()),
                    n_speakers=len(spk),
                    auc=auc(rows.y[m], scores[m]),
                    ua=unweighted_accuracy(rows.y[m], scores[m]),
                    refitted=len(spk & shared),
                    unscored=int(np.count_nonzero(~np.isfinite(table.features[cond][in_corpus, 0]))),
                )
            )
    return out


def _calm_shift(rows: Rows, scores: FloatArray, conds: list[str]) -> tuple[list[CalmShift], FloatArray]:
    """Score shift of every low-arousal clip from clean to each line (no baseline)."""
    low = rows.y == 0
    clean = {
        int(c): s
        for c, s in zip(
            rows.clip[low & (rows.condition == "clean")],
            scores[low & (rows.condition == "clean")],
            strict=True,
        )
    }
    if not clean:
        return [], np.zeros(0)
    out = []
    worst: dict[int, float] = {}
    for cond in conds:
        m = low & (rows.condition == cond) & np.isin(rows.clip, list(clean))
        if not m.any():
            continue
        shift = scores[m] - np.array([clean[int(c)] for c in rows.clip[m]])
        out.append(
            CalmShift(
                cond, int(m.sum()), float(scores[m].mean()), float(shift.mean()), float(np.abs(shift).max())
            )
        )
        if is_gain_and_codec(cond):
            for c, s in zip(rows.clip[m], np.abs(shift), strict=True):
                worst[int(c)] = max(worst.get(int(c), 0.0), float(s))
    return out, np.array(list(worst.values()))


def format_table(result: Evaluation) -> str:
    """One markdown table: a line per condition, AUC per corpus and mode (change vs clean), calm shift."""
    rows = result.rows
    corpora = sorted({r.corpus for r in rows})
    conds = list(dict.fromkeys(r.condition for r in rows))
    get = {(r.corpus, r.condition, r.mode): r for r in rows}
    calm = {c.condition: c for c in result.calm}
    head = ["condition"]
    for corpus in corpora:
        head += [f"{corpus} no baseline", f"{corpus} with baseline"]
    head += ["calm clips: mean score", "shift vs clean (mean / max)"]
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    for cond in conds:
        cells = [cond]
        for corpus in corpora:
            for mode in MODES:
                r = get.get((corpus, cond, mode))
                ref = get.get((corpus, "clean", mode))
                if r is None:
                    cells.append("-")
                    continue
                cell = f"{r.auc:.3f}"
                if ref is not None and cond != "clean":
                    cell += f" ({r.auc - ref.auc:+.3f})"
                if r.unscored:
                    cell += f" [{r.unscored} unscored]"
                cells.append(cell)
        c = calm.get(cond)
        cells += [f"{c.mean_score:.1f}", f"{c.mean_shift:+.1f} / {c.max_abs_shift:.1f}"] if c else ["-", "-"]
        lines.append("| " + " | ".join(cells) + " |")
    w = result.calm_worst
    if len(w):
        lines.append("")
        lines.append(
            f"Calm (low-arousal) clips, largest score change over the gain and codec lines measured: "
            f"median {np.median(w):.1f}, 90th percentile {np.percentile(w, 90):.1f}, "
            f"{np.count_nonzero(w <= 10.0)} of {len(w)} clips within 10 points."
        )
    return "\n".join(lines)
