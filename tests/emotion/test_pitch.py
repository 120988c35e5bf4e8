"""YIN pitch on synthetic tones (exact) and real speech (plausible speaker ranges)."""

from __future__ import annotations

import numpy as np
import pytest

from emotion.features import speech_masks
from emotion.frames import FMIN, FRAME, WIN, frames_of
from emotion.pitch import _difference

Audio = tuple[np.ndarray, int]


@pytest.mark.parametrize("rate", [8000, 16000, 48000])
@pytest.mark.parametrize("f0", [70.0, 123.4, 200.0, 311.0, 450.0])
def test_tone_f0_is_exact(rate: int, f0: float) -> None:
    t = np.arange(int(rate * 1.0)) / rate
    x = (0.3 * np.sin(2 * np.pi * f0 * t)).astype(np.float32)
    frames = frames_of(x, rate)
    inner = slice(10, len(frames) - 10)
    assert np.median(frames.f0[inner]) == pytest.approx(f0, rel=2e-3)
    assert np.max(np.abs(frames.f0[inner] - f0)) < 0.005 * f0
    assert np.max(frames.aperiodicity[inner]) < 0.05  # a pure tone is periodic


def test_the_difference_function_is_yins_definition() -> None:
    """d(tau) = sum_{j < win} (x[j] - x[j + tau])^2 for every lag, computed directly, on speech-like
    and random frames of the analysis length (the FFT must not wrap any lag around)."""
    rng = np.random.default_rng(7)
    t = np.arange(FRAME) / 8000
    frames = np.stack(
        [0.3 * np.sin(2 * np.pi * 97.0 * t) + rng.normal(0, 0.02, FRAME), rng.normal(0, 0.2, FRAME)]
    )
    tau_max = int(np.ceil(8000 / FMIN))
    diff, e_0, e_tau = _difference(frames, WIN, tau_max)
    for x, d in zip(frames, diff, strict=True):
        direct = [np.sum((x[:WIN] - x[tau : tau + WIN]) ** 2) for tau in range(tau_max + 2)]
        np.testing.assert_allclose(d, direct, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(e_0[:, 0], np.sum(frames[:, :WIN] ** 2, axis=1), rtol=1e-12)
    assert e_tau.shape == (2, tau_max + 2)


def test_white_noise_is_unvoiced() -> None:
    x = np.random.default_rng(1).normal(0, 0.1, 16000).astype(np.float32)
    frames = frames_of(x, 16000)
    assert np.median(frames.aperiodicity) > 0.7


def _median_f0(audio: Audio) -> float:
    frames = frames_of(*audio)
    _, voiced, _ = speech_masks(frames)
    return float(np.median(frames.f0[voiced]))


def test_real_male_and_female_f0_ranges(neutral_male: Audio, neutral_female: Audio) -> None:
    male, female = _median_f0(neutral_male), _median_f0(neutral_female)
    # adult male speech: roughly 85-180 Hz; adult female: roughly 165-300 Hz
    assert 85 <= male <= 180
    assert 165 <= female <= 300
    assert female > male * 1.4


def test_anger_raises_f0(neutral_male: Audio, angry_male: Audio) -> None:
    assert _median_f0(angry_male) > _median_f0(neutral_male) * 1.3
