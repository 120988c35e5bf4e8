"""Finding one recording filed under both arousal labels, on real CASIA clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emotion.offline.dataset import MULAW, load_clips, read_audio
from emotion.offline.duplicates import SAME_RECORDING, conflicting_duplicates, similarity


def phone(path: Path) -> np.ndarray:
    x, rate = read_audio(path)
    return MULAW.apply(x, rate)[0]


def test_a_retrimmed_copy_is_the_same_recording(casia: Path) -> None:
    x = phone(casia / "wangzhe" / "angry" / "201.wav")
    copy = np.concatenate([np.zeros(1234, np.float32), x[300:-500], np.zeros(800, np.float32)])
    assert similarity(x, copy) > 0.95
    assert similarity(copy, x) == pytest.approx(similarity(x, copy), abs=1e-9)


def test_another_take_of_the_same_sentence_is_not(casia: Path) -> None:
    for spk in ("wangzhe", "zhaoquanyin"):
        fear = phone(casia / spk / "fear" / "201.wav")
        sad = phone(casia / spk / "sad" / "201.wav")
        assert similarity(fear, sad) < 0.5 < SAME_RECORDING


def test_silence_is_never_a_duplicate() -> None:
    assert similarity(np.zeros(8000), np.zeros(8000)) == 0.0
    assert similarity(np.zeros(0), np.ones(10)) == 0.0


def test_finds_the_casia_fear_sad_copies_and_nothing_else(casia: Path) -> None:
    clips = [
        c for c in load_clips(casia) if c.speaker in ("liuchanhg", "wangzhe") and c.label in ("fear", "sad")
    ]
    audio = [phone(c.path) for c in clips]
    pairs = conflicting_duplicates([c.speaker_key for c in clips], [c.high for c in clips], audio)
    found = {(clips[p.first].entry, clips[p.second].entry) for p in pairs}
    expected = {(f"liuchanhg/fear/{n}.wav", f"liuchanhg/sad/{n}.wav") for n in range(201, 221)}
    assert found == expected
    assert all(p.similarity >= SAME_RECORDING for p in pairs)
    # same labels are never compared: no conflict, no pair
    assert conflicting_duplicates([c.speaker_key for c in clips], [True] * len(clips), audio) == []


def test_inputs_must_line_up() -> None:
    with pytest.raises(ValueError, match="one entry per clip"):
        conflicting_duplicates(["a"], [True, False], [np.zeros(10)])


def test_the_found_pairs_are_kept_in_the_feature_cache(casia: Path, tmp_path: Path) -> None:
    """Measured again from the cache, a corpus names the same pairs without comparing the clips."""
    from emotion.offline.cache import FeatureCache
    from emotion.offline.dataset import CLEAN, measure_clips

    clips = [c for c in load_clips(casia) if c.speaker == "liuchanhg" and c.label in ("fear", "sad")]
    cache = FeatureCache(tmp_path / "cache")
    first = measure_clips(clips, [CLEAN], cache=cache)
    assert len(first.excluded) == 20 and not first.clips  # every one of its fear and sad clips
    again = measure_clips(clips, [CLEAN], cache=cache)
    assert again.excluded == first.excluded and again.clips == first.clips
    # the cached entry is what is read back: a changed one changes the answer
    (entry,) = [p for p in (tmp_path / "cache").rglob("*.npy") if np.load(p).ndim == 2]
    np.save(entry, np.zeros((0, 3)))
    assert measure_clips(clips, [CLEAN], cache=cache).excluded == ()
