"""The tuning/reporting speaker split (emotion.offline.protocol) on the shared emotion data."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from agent_monitor.errors import DatasetError
from emotion.offline.dataset import find_corpora, load_clips
from emotion.offline.protocol import TUNING_SPEAKERS, part_mask


def _speakers(emotion_dir: Path) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for corpus in find_corpora(emotion_dir):
        for clip in load_clips(corpus):
            out.setdefault(clip.corpus, set()).add(clip.speaker_key)
    return out


def test_every_corpus_has_tuning_and_reporting_speakers(emotion_dir: Path) -> None:
    speakers = _speakers(emotion_dir)
    assert set(speakers) == {"casia", "ravdess"}
    for corpus, keys in speakers.items():
        arr = np.array(sorted(keys))
        tuning, reporting = part_mask(arr, "tuning"), part_mask(arr, "reporting")
        assert not np.any(tuning & reporting) and np.all(tuning | reporting)
        assert tuning.any() and reporting.any(), corpus
    assert speakers["casia"] | speakers["ravdess"] >= TUNING_SPEAKERS  # no misspelt key


def test_ravdess_parts_have_as_many_men_as_women(ravdess: Path) -> None:
    with (ravdess / "labels.csv").open(newline="", encoding="utf-8") as fh:
        gender = {f"ravdess/{r['speaker']}": r["gender"] for r in csv.DictReader(fh)}
    for part in ("tuning", "reporting"):
        keys = np.array(sorted(gender))
        chosen = keys[part_mask(keys, part)]
        assert [gender[k] for k in chosen].count("male") == len(chosen) // 2 == 4, part


def test_unknown_speakers_are_reporting_and_unknown_parts_an_error() -> None:
    keys = np.array(["other/spk1", "ravdess/actor_01", "ravdess/actor_09"])
    assert part_mask(keys, "reporting").tolist() == [True, False, True]
    assert part_mask(keys, "all").all()
    with pytest.raises(DatasetError, match="unknown speaker part"):
        part_mask(keys, "held-out")
