"""Training lines (emotion.offline.augment) and the per-(clip, line) feature cache (emotion.offline.cache)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from agent_monitor.audio.conditions import CODECS, Condition
from agent_monitor.audio.noise import NOISES
from emotion.offline.augment import GAIN_RANGE_DB, SNR_RANGE_DB, training_line, variant_names
from emotion.offline.cache import FeatureCache, code_version


def test_training_lines_are_reproducible_and_in_range() -> None:
    lines = [
        training_line(f"corpus/spk{s}", f"clip{c}.wav", k)
        for s in range(30)
        for c in range(3)
        for k in range(4)
    ]
    again = [
        training_line(f"corpus/spk{s}", f"clip{c}.wav", k)
        for s in range(30)
        for c in range(3)
        for k in range(4)
    ]
    assert lines == again
    for line in lines:
        assert line.name.startswith("aug")
        assert GAIN_RANGE_DB[0] - 3.0 <= line.gain_db <= 0.0
        assert line.codec is None or line.codec in CODECS
        assert line.noise is None or (
            line.noise in NOISES and SNR_RANGE_DB[0] <= (line.snr_db or 0) <= SNR_RANGE_DB[1]
        )
        assert line.loss == 0.0 or line.codec is not None
    # every codec, both noises and clean lines all occur
    assert {line.codec for line in lines} == {None, *CODECS}
    assert {line.noise for line in lines} == {None, *NOISES}
    assert variant_names(3) == ("aug0", "aug1", "aug2")


def test_one_speaker_keeps_one_line_per_variant() -> None:
    a = training_line("corpus/spk1", "a.wav", 0)
    b = training_line("corpus/spk1", "b.wav", 0)
    assert (a.codec, a.noise, a.snr_db, a.loss) == (b.codec, b.noise, b.snr_db, b.loss)
    assert abs(a.gain_db - b.gain_db) <= 6.0


def test_cache_round_trip_and_keys(tmp_path: Path) -> None:
    clip = tmp_path / "clip.wav"
    clip.write_bytes(b"RIFF....")
    cache = FeatureCache(tmp_path / "cache")
    line = Condition("mulaw", codec="mulaw")
    key = cache.key(clip, line, "clip.wav")
    assert cache.get(key) is None
    row = np.array([1.5, np.nan, -3.0])
    cache.put(key, row)
    got = cache.get(key)
    assert got is not None and np.array_equal(got, row, equal_nan=True)
    assert cache.key(clip, Condition("mulaw", codec="mulaw", gain_db=-20), "clip.wav") != key
    assert cache.key(clip, line, "other seed") != key
    clip.write_bytes(b"RIFF....more")  # the file changed: a new key
    assert cache.key(clip, line, "clip.wav") != key
    assert len(code_version()) == 16
