"""Evaluation: AUC and unweighted accuracy, high vs low arousal, on held-out speakers.

Every speaker of the evaluated folder is scored by a model that never heard them:

* a speaker the shipped model was **not** trained on is scored by the shipped model itself;
* a speaker it **was** trained on (evaluating the development data) is scored by a model refitted
  without that speaker (same configuration and calibration): leave-speaker-out.

Figures per corpus, for the original audio and after an 8 kHz G.711 mu-law phone line, without a
baseline (absolute scorer) and with one (relative scorer; baseline from the speaker's neutral clips,
which are then not scored). The threshold for unweighted accuracy is score 50.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agent_monitor.errors import DatasetError
from emotion.dataset import CONDITIONS, ClipTable
from emotion.model import LinearScorer, StressModel
from emotion.pitch import FloatArray
from emotion.training import (
    TrainConfig,
    absolute_rows,
    auc,
    calibrated,
    fit_scorer,
    relative_rows,
    unweighted_accuracy,
)

MODES = ("no baseline", "with baseline")


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
        }


def evaluate(table: ClipTable, model: StressModel, pool: ClipTable | None = None) -> list[EvalRow]:
    """Score every clip of ``table`` with a model that has not heard its speaker.

    ``pool`` is the model's training data; it is needed only when ``table`` shares speakers with
    the model (the development set), to refit without each shared speaker.
    """
    shared = sorted(set(table.speakers.tolist()) & model.training_speakers)
    if shared and pool is None:
        raise DatasetError(
            f"{len(shared)} evaluated speaker(s) were used to train the model; leave-speaker-out "
            "evaluation needs the training data (settings eval_data_dir)"
        )
    config = TrainConfig.from_json(model.training["config"]) if shared else TrainConfig()
    out: list[EvalRow] = []
    for mode in MODES:
        relative = mode == "with baseline"
        rows = relative_rows(table) if relative else absolute_rows(table)
        if len(rows) == 0:
            continue
        scores = np.full(len(rows), np.nan)
        shipped = model.relative if relative else model.absolute
        own = np.isin(rows.speaker, shared)
        scores[~own] = shipped.score(rows.x[~own])
        if shared and pool is not None:
            pool_rows = (
                relative_rows(pool, variants=config.baseline_variants) if relative else absolute_rows(pool)
            )
            features = config.relative_features if relative else config.absolute_features
            c = config.c_relative if relative else config.c_absolute
            for spk in shared:
                m = rows.speaker == spk
                if not m.any():
                    continue
                refit: LinearScorer = fit_scorer(pool_rows.take(pool_rows.speaker != spk), features, c)
                refit = calibrated(refit, shipped.calib_a, shipped.calib_c)
                scores[m] = refit.score(rows.x[m])
        out += _summarise(rows.corpus, rows.condition, rows.speaker, rows.y, scores, mode, set(shared))
    return out


def _summarise(
    corpus: np.ndarray,
    condition: np.ndarray,
    speaker: np.ndarray,
    y: np.ndarray,
    scores: FloatArray,
    mode: str,
    shared: set[str],
) -> list[EvalRow]:
    out = []
    for name in sorted(set(corpus.tolist())):
        for cond in CONDITIONS:
            m = (corpus == name) & (condition == cond)
            if not m.any():
                continue
            spk = set(speaker[m].tolist())
            out.append(
                EvalRow(
                    corpus=name,
                    condition=cond,
                    mode=mode,
                    n=int(m.sum()),
                    n_speakers=len(spk),
                    auc=auc(y[m], scores[m]),
                    ua=unweighted_accuracy(y[m], scores[m]),
                    refitted=len(spk & shared),
                )
            )
    return out


def format_table(rows: list[EvalRow]) -> str:
    """The evaluation as an aligned text table, with the 8 kHz drop next to each telephone row."""
    ref = {(r.corpus, r.mode): r.auc for r in rows if r.condition == "original"}
    head = f"{'corpus':<10} {'condition':<22} {'baseline':<14} {'clips':>5} {'spk':>4} {'AUC':>6} {'UA':>6}"
    lines = [head + "  note"]
    for r in sorted(rows, key=lambda r: (r.corpus, MODES.index(r.mode), CONDITIONS.index(r.condition))):
        cond = "original rate" if r.condition == "original" else "8 kHz mu-law telephone"
        note = ""
        if r.condition == "telephone" and (r.corpus, r.mode) in ref:
            note = f"AUC change {r.auc - ref[(r.corpus, r.mode)]:+.3f} vs original"
        if r.refitted:
            note = (note + "; " if note else "") + f"{r.refitted} speaker(s) leave-speaker-out refit"
        lines.append(
            f"{r.corpus:<10} {cond:<22} {r.mode:<14} {r.n:>5} {r.n_speakers:>4} "
            f"{r.auc:>6.3f} {r.ua:>6.3f}  {note}"
        )
    return "\n".join(lines)
