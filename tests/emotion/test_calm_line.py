"""Calm speech stays calm on a quiet 8 kHz mu-law line (issue #10: false red alerts on calm debtors).

Each speaker is scored by a model refitted without them (leave-speaker-out, the shipped
configuration and calibration), so the clips were never heard in training. The level must stay
none (score below ``elevated_on``). The issue also asks that a calm clip's score move by at most
10 points across gains and codecs; that is **not met** for every clip: actor 04's neutral clip
goes from 31.2 to 49.8 on this line (18.6 points, and only just below 50; README, "Stress per
line condition"), so the bound here is :data:`SHIFT_BOUND` above that, to catch a regression.
"""

from __future__ import annotations

import numpy as np
import pytest

from agent_monitor.audio.conditions import Condition
from agent_monitor.model.stress import StressLevel
from agent_monitor.settings import StressSettings
from emotion.levels import level_for_score
from emotion.model import LinearScorer, StressModel
from emotion.offline.dataset import ClipTable, read_audio
from emotion.offline.training import TrainConfig, calibrated, fit_selected, training_rows
from emotion.tracker import clip_features

SPEAKERS = ("ravdess/actor_01", "ravdess/actor_02", "ravdess/actor_03", "ravdess/actor_04")
QUIET_MULAW = Condition("mulaw-18", gain_db=-18.0, codec="mulaw")
SHIFT_BOUND = 20.0


@pytest.fixture(scope="module")
def held_out(emotion_table: ClipTable, model: StressModel) -> dict[str, LinearScorer]:
    config = TrainConfig.from_json(model.training["config"])
    rows = training_rows(emotion_table, config)["absolute"]
    out = {}
    for spk in SPEAKERS:
        train = rows.take(rows.speaker != spk)
        fit, _ = fit_selected(train, config.absolute_features, config.c_grid, config.min_stability_absolute)
        out[spk] = calibrated(fit, model.absolute.calib_a, model.absolute.calib_c)
    return out


@pytest.mark.parametrize("speaker", SPEAKERS)
def test_calm_speech_on_quiet_mulaw_stays_calm(
    emotion_table: ClipTable,
    held_out: dict[str, LinearScorer],
    stress_settings: StressSettings,
    speaker: str,
) -> None:
    clips = [c for c in emotion_table.clips if c.speaker_key == speaker and c.label in ("neutral", "calm")]
    assert len(clips) == 2
    scorer = held_out[speaker]
    for clip in clips:
        x, rate = read_audio(clip.path)
        clean = float(scorer.score(clip_features(x, rate).values)[0])
        y, line_rate = QUIET_MULAW.apply(x, rate, seed=clip.entry)
        assert line_rate == 8000 and np.max(np.abs(y)) < np.max(np.abs(x)) * 0.2
        phone = float(scorer.score(clip_features(y, line_rate).values)[0])
        assert level_for_score(phone, stress_settings) is StressLevel.NONE, (clip.entry, clean, phone)
        assert abs(phone - clean) <= SHIFT_BOUND, (clip.entry, clean, phone)
