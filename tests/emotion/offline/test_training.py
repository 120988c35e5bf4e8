"""The line penalty of the stress scorers' training (emotion.offline.line_penalty)."""

from __future__ import annotations

import numpy as np

from emotion.offline.dataset import ClipTable
from emotion.offline.line_penalty import line_moves
from emotion.offline.rows import Rows
from emotion.offline.training import ABSOLUTE_FEATURES, TrainConfig, fit_scorer, training_rows


def _rows(clips: list[int], conditions: list[str], x: list[list[float]]) -> Rows:
    n = len(clips)
    return Rows(
        np.array(x, dtype=float),
        np.zeros(n, int),
        np.full(n, "s"),
        np.full(n, "c"),
        np.array(conditions),
        np.array(clips),
    )


def test_line_moves_pair_each_line_row_with_the_same_clip_clean() -> None:
    rows = _rows(
        [0, 1, 1, 0, 2, 1],
        ["clean", "clean", "aug0", "aug0", "aug0", "aug1"],
        [[0.0], [10.0], [13.0], [1.0], [5.0], [8.0]],
    )
    moves = line_moves(rows, rows.x)
    # clip 2 has no clean row: left out; every other line row minus its clip's clean row
    assert sorted(moves[:, 0].tolist()) == [-2.0, 1.0, 3.0]


def _mean_square_move(rows: Rows, decision: np.ndarray) -> float:
    moves = line_moves(rows, decision.reshape(-1, 1))
    return float(np.mean(moves**2))


def test_penalty_makes_the_decision_move_less_across_lines(emotion_table: ClipTable) -> None:
    """On the real clips and their training lines, the penalty lowers the decision's mean square
    move from clean to each line relative to its spread over the clips, and keeps the ranking."""
    rows = training_rows(emotion_table, TrainConfig())["absolute"]
    moved = {}
    for penalty in (0.0, 100.0):
        scorer = fit_scorer(rows, ABSOLUTE_FEATURES, 0.1, penalty)
        d = scorer.decision(rows.x)
        moved[penalty] = _mean_square_move(rows, d) / float(np.var(d[rows.condition == "clean"]))
        clean = rows.condition == "clean"
        high, low = d[clean & (rows.y == 1)], d[clean & (rows.y == 0)]
        assert np.mean(high[:, None] > low[None, :]) > 0.75, penalty
    assert moved[100.0] < 0.7 * moved[0.0], moved  # measured 0.063 vs 0.113
