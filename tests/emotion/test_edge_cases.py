"""Silence, clipping, very short clips and 8 kHz input: a defined result or a StressError."""

from __future__ import annotations

import math

import numpy as np
import pytest

from agent_monitor.errors import StressError
from agent_monitor.settings import StressSettings
from emotion.model import StressModel
from emotion.offline.dataset import MULAW
from emotion.tracker import clip_features, score_clip

Audio = tuple[np.ndarray, int]


@pytest.mark.parametrize("seconds", [0.0, 0.01, 0.1, 3.0])
def test_silence_is_a_clear_error(
    seconds: float, stress_settings: StressSettings, model: StressModel
) -> None:
    with pytest.raises(StressError, match="too little voiced speech"):
        score_clip(np.zeros(int(16000 * seconds), np.float32), 16000, stress_settings, model)


def test_very_short_speech_is_an_error_or_a_finite_score(
    angry_male: Audio, stress_settings: StressSettings, model: StressModel
) -> None:
    x, rate = angry_male
    onset = int(np.argmax(np.abs(x) > 0.05 * np.abs(x).max()))
    for ms in (20, 100, 300, 600):
        clip = x[onset : onset + rate * ms // 1000]
        try:
            score, _, timeline = score_clip(clip, rate, stress_settings, model)
        except StressError:
            continue
        assert 0 <= score <= 100 and all(math.isfinite(s.score) for s in timeline)


def test_clipped_speech_scores_finitely(
    angry_male: Audio, stress_settings: StressSettings, model: StressModel
) -> None:
    x, rate = angry_male
    clipped = np.clip(x * 30.0, -1.0, 1.0)  # about a third of the samples at full scale
    assert np.mean(np.abs(clipped) >= 1.0) > 0.05
    score, feats, timeline = score_clip(clipped, rate, stress_settings, model)
    assert 0 <= score <= 100 and np.all(np.isfinite(feats.values))
    assert all(math.isfinite(s.score) for s in timeline)


def test_out_of_range_and_nan_samples(
    angry_male: Audio, stress_settings: StressSettings, model: StressModel
) -> None:
    x, rate = angry_male
    score, _, _ = score_clip(x * 100.0, rate, stress_settings, model)  # clipped to [-1, 1]
    assert math.isfinite(score)
    with pytest.raises(StressError, match="NaN"):
        clip_features(np.array([0.0, np.inf], np.float32), 16000)


def test_8khz_mulaw_input_scores_like_the_original(
    angry_male: Audio, neutral_male: Audio, model: StressModel
) -> None:
    for x, rate in (angry_male, neutral_male):
        original = model.score_absolute(clip_features(x, rate).values)
        phone = model.score_absolute(clip_features(MULAW.apply(x, rate)[0], 8000).values)
        assert abs(original - phone) < 10


def test_too_low_rate_is_an_error() -> None:
    with pytest.raises(StressError, match="too low"):
        clip_features(np.zeros(4000, np.float32), 4000)
