"""Scores: telephone gain does not move them; the speaker baseline makes them relative."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emotion.baseline import SpeakerBaseline
from emotion.model import StressModel
from emotion.tracker import clip_features

Audio = tuple[np.ndarray, int]


def phone_level(audio: Audio) -> Audio:
    """Scale a clip to a telephone-like level (peak -6 dBFS); RAVDESS is recorded quietly."""
    x, rate = audio
    return x * (0.5 / float(np.max(np.abs(x)))), rate


#: line gains from -40 dB to +5 dB around a phone-like level
GAINS = [0.01, 0.1, 0.3, 1.8]


@pytest.mark.parametrize("gain", GAINS)
def test_absolute_score_ignores_gain(
    model: StressModel, neutral_male: Audio, angry_male: Audio, gain: float
) -> None:
    for x, rate in (phone_level(neutral_male), phone_level(angry_male)):
        ref = model.score_absolute(clip_features(x, rate).values)
        assert model.score_absolute(clip_features(x * gain, rate).values) == pytest.approx(ref, abs=2.0)


@pytest.mark.parametrize("gain", GAINS)
def test_relative_score_ignores_a_gain_shared_by_the_call(
    model: StressModel, neutral_male: Audio, angry_male: Audio, gain: float
) -> None:
    # the same line gain on baseline and later speech; the recording's own level difference kept
    (b, rb), (x, rx) = neutral_male, angry_male
    norm = 0.5 / float(np.max(np.abs(x)))
    b, x = b * norm, x * norm
    ref_base = SpeakerBaseline.from_windows([clip_features(b, rb)])
    ref = model.score_relative(clip_features(x, rx).values, ref_base.value)
    base = SpeakerBaseline.from_windows([clip_features(b * gain, rb)])
    assert model.score_relative(clip_features(x * gain, rx).values, base.value) == pytest.approx(ref, abs=2.0)


def test_baseline_separates_calm_from_angry_for_the_same_speaker(
    model: StressModel, neutral_male: Audio, angry_male: Audio, ravdess: Path
) -> None:
    from emotion.offline.dataset import read_audio

    base = SpeakerBaseline.from_windows([clip_features(*neutral_male)])
    calm = clip_features(*read_audio(ravdess / "03-01-02-01-02-01-01.wav"))  # actor 01, calm
    angry = clip_features(*angry_male)
    assert model.score_relative(angry.values, base.value) > 80
    assert model.score_relative(calm.values, base.value) < 50
    # the baseline of a calm speaker scores itself as calm
    assert model.score_relative(base.value, base.value) < 50


def test_baseline_forms_after_enough_speech_and_updates_slowly(neutral_male: Audio) -> None:
    w = clip_features(*neutral_male)
    base = SpeakerBaseline(needed_speech_s=2 * w.voiced_s + 0.01, update_s=100.0)
    assert not base.add(w) and not base.add(w)
    assert base.add(w) and base.ready
    assert np.allclose(base.value, w.values)
    before = base.value.copy()
    shifted = type(w)(w.values + 10.0, w.speech_s, w.voiced_s, w.ref_db)
    base.update(shifted, dt_s=1.0)
    assert np.allclose(base.value - before, 0.1)  # 1 s of 100 s time constant: 1% of the gap
