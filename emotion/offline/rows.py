"""Training and evaluation rows: one per clip and line, absolute (clip features) or relative
(clip features minus the speaker's baseline on the same line, baseline clips left out)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from emotion.baseline import SpeakerBaseline
from emotion.features import WindowFeatures
from emotion.offline.dataset import ClipTable, baseline_clips
from emotion.pitch import FloatArray


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
    """Baseline feature vector of every speaker with usable neutral/calm clips on one line."""
    out = {}
    feats, voiced = table.features[condition], table.voiced_s[condition]
    for key, idx in baseline_clips(table, variant).items():
        windows = [
            WindowFeatures(feats[i], 0.0, float(voiced[i]), 0.0) for i in idx if np.isfinite(feats[i, 0])
        ]
        if windows:
            out[key] = SpeakerBaseline.from_windows(windows).value
    return out


def absolute_rows(table: ClipTable, conditions: Sequence[str]) -> Rows:
    """Clip features on each line; clips that could not be scored on a line left out."""
    parts = []
    n = len(table.clips)
    for cond in conditions:
        x = table.features[cond]
        rows = Rows(x, table.y, table.speakers, table.corpora, np.full(n, cond), np.arange(n))
        parts.append(rows.take(np.isfinite(x[:, 0])))
    return concat_rows(parts)


def relative_rows(table: ClipTable, conditions: Sequence[str], variants: int = 1) -> Rows:
    """Clip features minus the speaker's baseline on the same line; baseline clips left out.

    ``variants`` > 1 (training only) repeats this with the speaker's next baseline groups
    (:func:`emotion.offline.dataset.baseline_clips`), which multiplies the relative training rows.
    """
    return concat_rows([relative_rows_of(table, conditions, k) for k in range(max(1, variants))])


def relative_rows_of(table: ClipTable, conditions: Sequence[str], variant: int) -> Rows:
    """Relative rows with the speakers' baseline group number ``variant``."""
    chosen = baseline_clips(table, variant)
    in_baseline = np.zeros(len(table.clips), bool)
    for idx in chosen.values():
        in_baseline[idx] = True
    parts = []
    n = len(table.clips)
    for cond in conditions:
        bases = speaker_baselines(table, cond, variant)
        has_base = np.array([k in bases for k in table.speakers])
        keep = has_base & ~in_baseline & np.isfinite(table.features[cond][:, 0])
        x = table.features[cond].copy()
        for i in np.flatnonzero(keep):
            x[i] -= bases[table.speakers[i]]
        parts.append(
            Rows(x, table.y, table.speakers, table.corpora, np.full(n, cond), np.arange(n)).take(keep)
        )
    return concat_rows(parts)


def concat_rows(parts: list[Rows]) -> Rows:
    return Rows(
        np.vstack([p.x for p in parts]),
        np.concatenate([p.y for p in parts]),
        np.concatenate([p.speaker for p in parts]),
        np.concatenate([p.corpus for p in parts]),
        np.concatenate([p.condition for p in parts]),
        np.concatenate([p.clip for p in parts]),
    )
