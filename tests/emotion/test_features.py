"""Window features on real speech: finite, plausible, gain invariant (except loud_db)."""

from __future__ import annotations

import numpy as np
import pytest

from emotion.features import FEATURE_NAMES, TEL_SPECTRAL, WIDE_SPECTRAL, window_features
from emotion.frames import FrameAnalyzer, Frames, frames_of
from emotion.tracker import clip_features

Audio = tuple[np.ndarray, int]


def test_real_clip_features_are_plausible(neutral_male: Audio, angry_male: Audio) -> None:
    calm = clip_features(*neutral_male).as_dict()
    angry = clip_features(*angry_male).as_dict()
    for feats in (calm, angry):
        assert all(np.isfinite(v) for v in feats.values())
        assert 2.0 <= feats["rate"] <= 8.0  # syllables per second of speech
        assert 0.0 <= feats["pause_ratio"] < 0.6
        assert 0.2 <= feats["voiced_ratio"] <= 1.0
        assert -10.0 <= feats["hnr_db"] <= 30.0
    # shouting: higher, louder, brighter (less steep spectral tilt)
    assert angry["f0_st"] > calm["f0_st"] + 4
    assert angry["loud_db"] > calm["loud_db"] + 6
    assert angry["centroid"] > calm["centroid"]
    assert angry["alpha_db"] < calm["alpha_db"]


def test_spectral_change_follows_articulation(neutral_male: Audio, angry_male: Audio) -> None:
    """Speech moves its spectral shape every 10 ms; a held vowel (synthetic: 120 Hz harmonics with
    a slight vibrato) barely does; the shouted take moves faster than the neutral one."""
    rate = 16000
    t = np.arange(2 * rate) / rate
    phase = 2 * np.pi * np.cumsum(120.0 * (1 + 0.01 * np.sin(2 * np.pi * 5 * t))) / rate
    harmonics = sum((np.sin(k * phase) / k for k in range(1, 30)), np.zeros_like(phase))
    vowel = (0.1 * harmonics).astype(np.float32)
    held = clip_features(vowel, rate).as_dict()["spec_change"]
    calm = clip_features(*neutral_male).as_dict()["spec_change"]
    angry = clip_features(*angry_male).as_dict()["spec_change"]
    assert held < 0.3
    assert 1.0 < calm < angry < 6.0


@pytest.mark.parametrize("gain", [0.1, 0.5, 1.8])
def test_features_are_gain_invariant_except_loudness(neutral_male: Audio, gain: float) -> None:
    # at a phone-like level (peak -6 dBFS), then -20 dB .. +5 dB of line gain
    x, rate = neutral_male
    x = x * (0.5 / np.max(np.abs(x)))
    ref = clip_features(x, rate).as_dict()
    scaled = clip_features(x * gain, rate).as_dict()
    for name in FEATURE_NAMES:
        if name == "loud_db":
            assert scaled[name] - ref[name] == pytest.approx(20 * np.log10(gain), abs=0.1)
        else:
            assert scaled[name] == pytest.approx(ref[name], rel=0.02, abs=0.02), name


def test_streaming_frames_equal_batch_frames(neutral_female: Audio) -> None:
    x, rate = neutral_female
    batch = frames_of(x, rate)
    analyzer = FrameAnalyzer(rate)
    parts = [analyzer.push(x[i : i + 317]) for i in range(0, len(x), 317)]
    stream = Frames.concat([*parts, analyzer.flush()])
    assert len(stream) == len(batch)
    assert np.allclose(stream.f0, batch.f0, rtol=1e-3)
    assert np.allclose(stream.energy_db, batch.energy_db, atol=0.05)


def test_silence_and_noise_have_no_features() -> None:
    assert window_features(frames_of(np.zeros(16000, np.float32), 16000)) is None
    noise = np.random.default_rng(0).normal(0, 0.05, 32000).astype(np.float32)
    assert window_features(frames_of(noise, 16000)) is None


def test_telephone_front_end_reads_a_band_limited_line_alike(neutral_male: Audio) -> None:
    """A 300-3400 Hz band-pass (a GSM/AMR-like line's roll-off) moves the wide band's spectral
    shape by 12 dB and more, the telephone band's (emotion.frames.TEL_BAND) by under 2 dB."""
    from scipy.signal import butter, sosfilt

    x, rate = neutral_male
    line = sosfilt(butter(4, [300, 3400], "bandpass", fs=rate, output="sos"), x).astype(np.float32)
    clean, banded = clip_features(x, rate).as_dict(), clip_features(line, rate).as_dict()
    wide = max(abs(banded[n] - clean[n]) for n in WIDE_SPECTRAL if n.startswith("mel_"))
    tel = max(abs(banded[n] - clean[n]) for n in TEL_SPECTRAL if n.startswith("tel_mel_"))
    assert wide > 10.0 and tel < 2.0, (wide, tel)
    assert abs(banded["tel_alpha_db"] - clean["tel_alpha_db"]) < abs(banded["alpha_db"] - clean["alpha_db"])


def test_streaming_gives_both_front_ends_as_batch(neutral_female: Audio) -> None:
    x, rate = neutral_female
    analyzer = FrameAnalyzer(rate)
    parts = [analyzer.push(x[i : i + 317]) for i in range(0, len(x), 317)]
    stream = Frames.concat([*parts, analyzer.flush()])
    batch = frames_of(x, rate)
    for name in ("flux", "shape_db", "tel_flux", "tel_shape_db", "tel_alpha_db"):
        assert np.allclose(getattr(stream, name), getattr(batch, name), atol=0.05), name


@pytest.mark.parametrize("speaker", ["neutral_male", "neutral_female"])
def test_telephone_front_end_takes_a_steady_hiss_off(
    speaker: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """White noise 10 dB below the speech (a steady line hiss) moves the telephone front end's
    spectral shape less with the line's noise taken off (emotion.frames.NOISE_OVERSUBTRACT) than
    without (measured: mean move of the tel_mel bands 0.74 and 0.99 dB against 1.34 and 1.53); the
    wide front end (the absolute scorer's) is not denoised, so it reads the same either way."""
    import emotion.frames
    from agent_monitor.audio.noise import mix_at_snr

    x, rate = request.getfixturevalue(speaker)
    hiss = np.random.default_rng(0).normal(0.0, 1.0, len(x)).astype(np.float32)
    noisy = mix_at_snr(x, hiss, 10.0, rate)
    tel_mel = [n for n in TEL_SPECTRAL if n.startswith("tel_mel_")]

    def moves() -> tuple[float, dict[str, float]]:
        clean, line = clip_features(x, rate).as_dict(), clip_features(noisy, rate).as_dict()
        return float(np.mean([abs(line[n] - clean[n]) for n in tel_mel])), {n: line[n] for n in WIDE_SPECTRAL}

    denoised, wide = moves()
    monkeypatch.setattr(emotion.frames, "NOISE_OVERSUBTRACT", 0.0)
    plain, wide_plain = moves()
    assert denoised < 0.8 * plain, (denoised, plain)
    assert wide == wide_plain
