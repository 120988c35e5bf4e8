"""The live tracker: steady hop on the call clock, baseline status, events, bad input."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from agent_monitor.errors import StressError
from agent_monitor.model.audio import AudioFrame, Leg
from agent_monitor.model.stress import BaselineStatus, StressLevel
from agent_monitor.model.transcript import Word
from agent_monitor.settings import StressSettings
from emotion.model import StressModel
from emotion.offline.dataset import read_audio
from emotion.tracker import StressTracker

Audio = tuple[np.ndarray, int]


def actor_session(ravdess: Path, actor: str = "01") -> tuple[np.ndarray, int, float]:
    """One speaker's six RAVDESS clips back to back: neutral, calm, sad, then the high-arousal ones.

    Returns the audio, its rate and the call time where the first angry clip starts.
    """
    names = sorted(p.name for p in ravdess.glob(f"03-01-*-{actor}.wav"))
    order = sorted(names, key=lambda n: (n.split("-")[2] not in ("01", "02", "04"), n))
    parts, angry_at, t = [], 0.0, 0.0
    rate = 0
    for name in order:
        x, rate = read_audio(ravdess / name)
        if not angry_at and name.split("-")[2] == "05":
            angry_at = t
        parts.append(x)
        t += len(x) / rate
    return np.concatenate(parts), rate, angry_at


def feed_frames(tracker: StressTracker, x: np.ndarray, rate: int, frame_ms: int = 20) -> list:
    pcm = np.clip(np.round(np.asarray(x, np.float64) * 32768.0), -32768, 32767).astype("<i2").tobytes()
    step = rate * frame_ms // 1000 * 2
    out = []
    for off in range(0, len(pcm), step):
        out += tracker.push_frame(AudioFrame(Leg.DEBTOR, off / 2 / rate, pcm[off : off + step], rate))
    return out + tracker.finish()


def test_samples_at_a_steady_hop_and_baseline_switch(
    ravdess: Path, stress_settings: StressSettings, model: StressModel
) -> None:
    x, rate, angry_at = actor_session(ravdess)
    settings = stress_settings.model_copy(update={"baseline_speech_s": 3.0})
    tracker = StressTracker(settings, model, rate)
    samples = feed_frames(tracker, x, rate)
    times = [s.t for s in samples]
    assert times[:-1] == pytest.approx(list(np.arange(1, len(times)) * settings.hop_s))
    assert times[-1] == pytest.approx(len(x) / rate, abs=1e-3)
    assert all(0 <= s.score <= 100 and math.isfinite(s.score) for s in samples)
    statuses = [s.baseline for s in samples]
    assert statuses[0] is BaselineStatus.ABSOLUTE and statuses[-1] is BaselineStatus.RELATIVE
    switch = statuses.index(BaselineStatus.RELATIVE)
    assert all(s is BaselineStatus.RELATIVE for s in statuses[switch:])
    # the low-arousal first half stays calm; the angry/fearful second half is flagged
    calm = [s for s in samples if s.t < angry_at]
    assert all(s.level is StressLevel.NONE for s in calm)
    assert any(s.level is StressLevel.HIGH for s in samples if s.t > angry_at)
    events = tracker.drain_events()
    assert events and events[0].rising and events[0].t > angry_at
    assert tracker.drain_events() == []


def test_streaming_matches_whole_push(
    ravdess: Path, stress_settings: StressSettings, model: StressModel
) -> None:
    x, rate, _ = actor_session(ravdess, "02")
    a = StressTracker(stress_settings, model, rate)
    whole = a.push_samples(x) + a.finish()
    b = StressTracker(stress_settings, model, rate)
    framed = feed_frames(b, x, rate)
    assert [s.t for s in whole] == pytest.approx([s.t for s in framed], abs=2e-3)
    assert [s.score for s in whole] == pytest.approx([s.score for s in framed], abs=1.0)


def test_silence_gives_defined_samples(stress_settings: StressSettings, model: StressModel) -> None:
    tracker = StressTracker(stress_settings, model, 8000)
    samples = tracker.push_pcm(bytes(8000 * 2 * 5)) + tracker.finish()
    assert len(samples) == 5
    assert all(s.raw is None and s.score == 0.0 and s.level is StressLevel.NONE for s in samples)
    assert tracker.baseline_status is BaselineStatus.ABSOLUTE


def test_gap_in_input_is_filled_on_the_call_clock(
    angry_male: Audio, stress_settings: StressSettings, model: StressModel
) -> None:
    x, rate = angry_male
    tracker = StressTracker(stress_settings, model, rate)
    tracker.push_samples(x, start=0.0)
    tracker.push_samples(x, start=10.0)  # 10 s minus the clip: silence in between
    samples = tracker.samples + tracker.finish()
    assert samples[-1].t == pytest.approx(10.0 + len(x) / rate, abs=1e-3)
    quiet = [s for s in samples if len(x) / rate + 4.5 < s.t < 10.0]
    assert quiet and all(s.raw is None for s in quiet)


def test_word_times_drive_the_rate_relative_to_baseline(
    neutral_male: Audio, stress_settings: StressSettings, model: StressModel
) -> None:
    from emotion.baseline import SpeakerBaseline
    from emotion.tracker import clip_features

    x, rate = neutral_male

    def tracker() -> StressTracker:
        base = SpeakerBaseline.from_windows([clip_features(x, rate)])
        return StressTracker(stress_settings, model, rate, baseline=base, baseline_word_rate=2.0)

    slow, fast = tracker(), tracker()
    slow.add_words([Word("w", 1.0, 1.3)], until=10.0)
    fast.add_words([Word("w", 0.8 + 0.2 * i, 0.9 + 0.2 * i) for i in range(14)], until=10.0)
    s1 = slow.push_samples(x) + slow.finish()
    s2 = fast.push_samples(x) + fast.finish()
    raw1 = [s.raw for s in s1 if s.raw is not None]
    raw2 = [s.raw for s in s2 if s.raw is not None]
    assert raw1 and raw2 and raw1 != raw2


def test_bad_input_is_a_clear_error(stress_settings: StressSettings, model: StressModel) -> None:
    tracker = StressTracker(stress_settings, model, 16000)
    with pytest.raises(StressError, match="agent"):
        tracker.push_frame(AudioFrame(Leg.AGENT, 0.0, bytes(320), 16000))
    with pytest.raises(StressError, match="sample rate"):
        tracker.push_frame(AudioFrame(Leg.DEBTOR, 0.0, bytes(320), 8000))
    with pytest.raises(StressError, match="16-bit"):
        tracker.push_pcm(bytes(321))
    with pytest.raises(StressError, match="NaN"):
        tracker.push_samples(np.array([0.0, np.nan], np.float32))
    with pytest.raises(StressError, match="not supported"):
        StressTracker(stress_settings, model, 4000)
