"""The line penalty of the stress scorers' training: weight on what a phone line moves costs more.

Augmented training (:mod:`emotion.offline.augment`) shows the model every clip clean and on random
telephone lines; plain L2 regularisation does not care whether a weight sits on a feature the line
moves. :func:`line_metric` turns the clips' own moves from clean to each training line into a
metric that charges the decision's mean square move in the L2 penalty (a nuisance-aware ridge);
:func:`emotion.offline.training.fit_scorer` fits on the features multiplied by it.
"""

from __future__ import annotations

import numpy as np

from emotion.offline.rows import Rows
from emotion.pitch import FloatArray


def line_moves(rows: Rows, z: FloatArray) -> FloatArray:
    """How the line moves each clip's standardised features: ``z`` of every row on a training line
    minus ``z`` of the same clip clean (rows of one clip and line paired in order), one row each."""
    clean: dict[int, list[int]] = {}
    seen: dict[tuple[int, str], int] = {}
    pairs: list[tuple[int, int]] = []
    for i, (clip, cond) in enumerate(zip(rows.clip.tolist(), rows.condition.tolist(), strict=True)):
        if cond == "clean":
            clean.setdefault(clip, []).append(i)
    for i, (clip, cond) in enumerate(zip(rows.clip.tolist(), rows.condition.tolist(), strict=True)):
        k = seen.get((clip, cond), 0)
        seen[clip, cond] = k + 1
        if cond != "clean" and k < len(clean.get(clip, ())):
            pairs.append((i, clean[clip][k]))
    if not pairs:
        return np.zeros((0, z.shape[1]))
    line, ref = np.array(pairs).T
    out: FloatArray = z[line] - z[ref]
    return out


def line_metric(rows: Rows, z: FloatArray, penalty: float) -> FloatArray:
    """``(I + penalty * D) ** -1/2`` with ``D`` the mean outer product of :func:`line_moves`: fitting
    on ``z`` times this puts ``penalty * mean((w . move) ** 2)`` into the L2 penalty, so weight on
    what a phone line moves costs more than weight on what it leaves alone (nuisance-aware ridge)."""
    moves = line_moves(rows, z) if penalty > 0 else None
    if moves is None or len(moves) == 0:
        return np.eye(z.shape[1])
    values, vectors = np.linalg.eigh(moves.T @ moves / len(moves))
    out: FloatArray = (vectors / np.sqrt(1.0 + penalty * np.maximum(values, 0.0))) @ vectors.T
    return out
