"""Which speakers design decisions may be chosen on, and which are only reported on.

Every choice about the stress model (front-end constants, features, training options, the grid
of C) is made by leave-speaker-out cross-validation over the **tuning** speakers only; the
**reporting** speakers are scored once, at the end, by ``agent-monitor eval stress --part
reporting``. The split is fixed here, before any experiment, so it cannot follow the figures:

* RAVDESS: actors 01-08 tune, 09-16 report (4 male and 4 female actors in each part: RAVDESS
  numbers odd actors male, even female);
* CASIA: liuchanhg (F) and wangzhe (M) tune, zhaoquanyin (F) reports (the speaker with all 80
  clips; 40 of liuchanhg's are left out as conflicting duplicates).

Speakers of other corpora (data the project never saw) are reporting speakers.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from agent_monitor.errors import DatasetError
from emotion.offline.dataset import ClipTable

TUNING_SPEAKERS: frozenset[str] = frozenset(
    {"casia/liuchanhg", "casia/wangzhe", *(f"ravdess/actor_{i:02d}" for i in range(1, 9))}
)
PARTS = ("all", "tuning", "reporting")


def part_mask(speakers: npt.NDArray[np.str_], part: str) -> npt.NDArray[np.bool_]:
    """Which of ``speakers`` (corpus-qualified keys) belong to ``part`` (one of :data:`PARTS`)."""
    if part not in PARTS:
        raise DatasetError(f"unknown speaker part {part!r}: one of {', '.join(PARTS)}")
    tuning = np.isin(speakers, sorted(TUNING_SPEAKERS))
    if part == "all":
        return np.ones(len(speakers), bool)
    return tuning if part == "tuning" else ~tuning


def select_part(table: ClipTable, part: str) -> ClipTable:
    """The clips of ``table`` spoken by speakers of ``part``."""
    mask = part_mask(table.speakers, part)
    if not mask.any():
        raise DatasetError(f"no clips of {part} speakers in this data")
    return table.subset(mask)
