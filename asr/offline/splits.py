"""Tuning and reporting splits of the English evaluation data, by folder and by speaker.

Settings of the speech front end (VAD, level tracking, AGC) are tuned on ``tune`` only; figures
are reported on ``report``, whose speakers are in no tuning folder:

* ``tune``: LibriSpeech speaker 1089, the LibriVox reader, the MFA spontaneous speaker (the folders
  the thresholds were set and debugged on) and RAVDESS actors 01-08;
* ``report``: RAVDESS actors 09-16 (four men, four women, two sentences in five emotions; 3 clips
  per actor) and the FSDD digits (four speakers recorded at 8 kHz; 10 clips per speaker);
* ``report-rest``: the clips of the same speakers that ``report`` leaves out (RAVDESS 09-16: 24,
  FSDD: 40): a second held-out draw, used for no setting (README, "A lower target for Vosk").

Every folder has a ``labels.csv`` with columns ``path``, ``transcript`` and ``speaker``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agent_monitor.errors import ConfigError, DatasetError


@dataclass(frozen=True, slots=True)
class SplitPart:
    """The rows of one evaluation folder (relative to the data dir) spoken by ``speakers``
    (None: every speaker of the folder); at most ``files`` of them (0: all), spread evenly over
    the speakers (``eval asr --limit`` overrides it)."""

    folder: str
    speakers: frozenset[str] | None = None
    files: int = 0
    #: leave out the rows this other part of the same folder takes (so the two never overlap)
    rest_of: SplitPart | None = None

    def keeps(self, row: dict[str, str]) -> bool:
        if self.speakers is None:
            return True
        if "speaker" not in row:
            raise DatasetError(f"{self.folder}: labels.csv needs a 'speaker' column for this split")
        return row["speaker"] in self.speakers


def _actors(first: int, last: int) -> frozenset[str]:
    return frozenset(f"actor_{i:02d}" for i in range(first, last + 1))


# bounded so that the 15-condition grid fits in about 15 CPU minutes (pipeline and plain Vosk)
_REPORT = (
    SplitPart("emotion/ravdess", _actors(9, 16), files=24),
    SplitPart("speech/en/fsdd_8k_digits", files=40),
)

SPLITS: dict[str, tuple[SplitPart, ...]] = {
    "tune": (
        SplitPart("speech/en/librispeech"),
        SplitPart("speech/en/librivox"),
        SplitPart("speech/en/mfa_spontaneous"),
        SplitPart("emotion/ravdess", _actors(1, 8)),
    ),
    "report": _REPORT,
    "report-rest": tuple(SplitPart(p.folder, p.speakers, rest_of=p) for p in _REPORT),
}


def split_parts(name: str, data_dir: Path) -> list[tuple[Path, SplitPart]]:
    """The labels.csv of each part of split ``name`` under ``data_dir``, with the part."""
    if name not in SPLITS:
        raise ConfigError(f"unknown split {name!r} (known: {', '.join(SPLITS)})")
    parts: list[tuple[Path, SplitPart]] = []
    for part in SPLITS[name]:
        labels = data_dir / part.folder / "labels.csv"
        if not labels.is_file():
            raise DatasetError(f"{labels}: missing (split {name!r} needs it; see the data README)")
        parts.append((labels, part))
    return parts
