"""Level-independent speech detection on real recordings: quiet speech, real line hiss, G.711.

Speech is a LibriSpeech utterance with 2 s of silence around it, at levels 0 to -40 dB; the hiss
is the quieter half of the 20 ms frames of the real SpokenWOZ call's debtor leg.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from agent_monitor.audio.conditions import CONDITIONS
from agent_monitor.audio.decode import FloatArray, decode_file, float_to_pcm16
from agent_monitor.model.audio import Leg
from agent_monitor.settings import Settings, VadSettings
from asr.level import LevelTracker, frame_power, to_db
from asr.offline.degrade import degraded_pcm, noise_bank_for
from asr.streaming import RecognizerPool
from asr.transcribe import transcribe_legs
from asr.vad import SpeechAudio, SpeechEnded, VadOutput, VadSegmenter

RATE = 16000


def _run(pcm: bytes, cfg: VadSettings | None = None) -> tuple[list[VadOutput], VadSegmenter]:
    seg = VadSegmenter(cfg or VadSettings(), RATE, Leg.DEBTOR)
    out: list[VadOutput] = []
    for i in range(0, len(pcm), 3200):
        out += seg.push(pcm[i : i + 3200])
    return out + seg.flush(), seg


def _spans(out: list[VadOutput]) -> list[tuple[float, float]]:
    return [(o.segment.start, o.segment.end) for o in out if isinstance(o, SpeechEnded) and not o.too_short]


@pytest.fixture(scope="module")
def speech(librispeech_flac: Path) -> FloatArray:
    x = decode_file(librispeech_flac, target_rate=RATE).samples[0]
    silence = np.zeros(2 * RATE, dtype=np.float32)
    return np.concatenate([silence, x, silence])


@pytest.fixture(scope="module")
def hiss(call_opus: Path) -> FloatArray:
    """The quieter half of the debtor leg's 20 ms frames: line hiss and near-silence, no speech."""
    x = decode_file(call_opus, target_rate=RATE).samples[1]
    frames = x[: len(x) // 320 * 320].reshape(-1, 320)
    energy = np.mean(np.square(frames), axis=1)
    return np.ascontiguousarray(frames[energy < np.median(energy)].reshape(-1))


@pytest.mark.parametrize("gain_db", [0, -20, -30, -40])
def test_speech_found_at_every_level(speech: FloatArray, gain_db: int) -> None:
    spans = _spans(_run(float_to_pcm16(speech * np.float32(10 ** (gain_db / 20))))[0])
    duration = len(speech) / RATE - 4.0
    assert spans, f"no speech found at {gain_db} dB"
    assert 1.6 <= spans[0][0] <= 2.3  # the reader starts within 0.5 s; pre-roll keeps the onset
    assert spans[-1][1] >= 2.0 + duration - 0.6
    covered = sum(b - a for a, b in spans)
    assert covered >= 0.9 * duration


@pytest.mark.parametrize("condition", ["mulaw", "mulaw-20", "alaw-20"])
def test_speech_found_over_g711(speech: FloatArray, condition: str) -> None:
    """8 kHz G.711 (resampled back to 16 kHz as the pipeline does): its idle noise is not speech."""
    spans = _spans(_run(degraded_pcm(speech, RATE, CONDITIONS[condition], None, "test"))[0])
    duration = len(speech) / RATE - 4.0
    assert spans and 1.6 <= spans[0][0] <= 2.3
    assert sum(b - a for a, b in spans) >= 0.9 * duration


def test_speech_from_the_first_frame(speech: FloatArray) -> None:
    """A leg that starts in the middle of speech, 30 dB down: found from the first second."""
    start = int(2.0 * RATE)
    spans = _spans(_run(float_to_pcm16(speech[start:] * np.float32(10 ** (-30 / 20))))[0])
    assert spans and spans[0][0] <= 0.5


@pytest.mark.parametrize("gain_db", [0, 20])
def test_real_line_hiss_is_not_transcribed(
    pool: RecognizerPool, base_settings: Settings, hiss: FloatArray, gain_db: int
) -> None:
    pcm = float_to_pcm16(hiss * np.float32(10 ** (gain_db / 20)))
    finals = asyncio.run(transcribe_legs(pool, base_settings, {Leg.DEBTOR: pcm}))
    words = [w for t in finals for w in t.text.split()]
    assert len(words) <= 3, words  # 90 s of hiss; measured: 0 words at 0 dB, 2 at +20 dB


@pytest.mark.parametrize("zeros_s", [0, 3])
def test_call_opening_hiss_is_not_speech(call_opus: Path, zeros_s: int) -> None:
    """The debtor leg opens with 5.5 s of steady hiss at -53 dBFS (after a few frames of zeros), from
    the first frame of the call and after 3 s of digital silence: not speech."""
    leg = decode_file(call_opus, target_rate=RATE).samples[1][: int(5.5 * RATE)]
    x = np.concatenate([np.zeros(zeros_s * RATE, dtype=np.float32), leg])
    assert _spans(_run(float_to_pcm16(x))[0]) == []


def test_hiss_then_speech(call_opus: Path, speech: FloatArray) -> None:
    """Speech (-10 dB) on the call's hissy debtor line, after 5 s of that hiss: found, the hiss is not."""
    hiss = decode_file(call_opus, target_rate=RATE).samples[1][int(0.3 * RATE) : int(5.3 * RATE)]
    noise = np.tile(hiss, 4)[: len(speech)]
    x = np.concatenate([hiss, speech * np.float32(10 ** (-10 / 20)) + noise])
    spans = _spans(_run(float_to_pcm16(x))[0])
    assert spans and 6.6 <= spans[0][0] <= 7.3
    assert sum(b - a for a, b in spans) >= 0.9 * (len(speech) / RATE - 4.0)


def test_quiet_speech_is_normalised_for_the_recognizer(speech: FloatArray) -> None:
    quiet = float_to_pcm16(speech * np.float32(10 ** (-40 / 20)))
    out, seg = _run(quiet)
    level = seg.level
    assert level.speech_dbfs is not None
    assert -75 <= level.speech_dbfs <= -55  # the clip's active level is -67 dBFS
    assert level.noise_dbfs < level.speech_dbfs - 20
    assert 25 <= level.gain_db <= 40
    streamed = b"".join(o.pcm for o in out if isinstance(o, SpeechAudio))
    # toward agc_recognizer_target_dbfs (-33); the pauses between words count too (measured -40.6)
    assert -45 <= to_db(frame_power(streamed)) <= -30
    raw = b"".join(o.segment.pcm for o in out if isinstance(o, SpeechEnded))
    assert to_db(frame_power(raw)) < -60  # the segments keep the audio as received


def test_speech_at_an_ordinary_level_reaches_the_recognizer_as_received(speech: FloatArray) -> None:
    """The utterance 9 dB down (segments at -36 dBFS, speech level -31, noise floor -67): webrtcvad
    judges it lifted toward ``agc_target_dbfs``; from the first second of speech on Vosk gets every
    byte as received (``agc_recognizer_target_dbfs``). With Vosk's target at webrtcvad's (-26,
    before session 15) part of it was lifted (measured: 4.8 dB over the words after 2.6 s)."""
    pcm = float_to_pcm16(speech * np.float32(10 ** (-9 / 20)))

    def lifted(cfg: VadSettings) -> int:
        out, seg = _run(pcm, cfg)
        assert seg.level.detect_gain_db > 3.0
        later = [o for o in out if isinstance(o, SpeechAudio) and o.start >= 3.0]
        assert later
        return sum(pcm[round(o.start * RATE) * 2 :][: len(o.pcm)] != o.pcm for o in later)

    assert lifted(VadSettings()) == 0
    assert lifted(VadSettings(agc_recognizer_target_dbfs=-26.0)) > 0


def test_loud_speech_is_not_changed(speech: FloatArray) -> None:
    """Speech above the target level: no gain once its level is known (within its first second)."""
    out, seg = _run(float_to_pcm16(speech * np.float32(2.0)))
    assert seg.level.gain_db == 0.0
    later = [o for o in out if isinstance(o, SpeechAudio) and o.start >= 3.0]
    pcm = float_to_pcm16(speech * np.float32(2.0))
    assert later and all(pcm[round(o.start * RATE) * 2 :][: len(o.pcm)] == o.pcm for o in later)


def test_tracker_noise_floor_follows_the_quietest_stretch() -> None:
    cfg = VadSettings()
    tracker = LevelTracker(cfg, 0.03)
    assert tracker.noise_dbfs == cfg.energy_floor_dbfs
    assert not tracker.observe(1e-6)  # the first frame is its own floor
    assert tracker.noise_dbfs == pytest.approx(-60.0)
    assert tracker.observe(1e-4)  # 20 dB above the floor
    assert not tracker.observe(0.0)  # digital silence: no evidence of noise
    assert tracker.noise_dbfs == pytest.approx(-60.0)


def test_tracker_noise_floor_is_the_minimum_of_its_window_on_real_frames(call_opus: Path) -> None:
    """The sliding-window minimum gives, frame by frame, the minimum of the last ``noise_window_ms``
    of smoothed levels (as a scan of the whole window would), over the real SpokenWOZ debtor leg."""
    audio = decode_file(call_opus, target_rate=RATE)
    x = float_to_pcm16(audio.samples[1][: 40 * RATE])
    cfg = VadSettings(noise_window_ms=1500)
    frame = RATE * 30 // 1000 * 2
    tracker = LevelTracker(cfg, 0.03)
    window = round(1.5 / 0.03)
    recent: list[float] = []
    levels: list[float] = []
    checked = 0
    for i in range(0, len(x) - frame, frame):
        power = frame_power(x[i : i + frame])
        tracker.observe(power)
        if to_db(power) > cfg.energy_floor_dbfs:
            recent = [*recent, power][-3:]
            levels.append(to_db(sum(recent) / len(recent)))
        if levels:
            assert tracker.noise_dbfs == min(levels[-window:])
            checked += 1
    assert checked > 1000


@pytest.mark.parametrize("condition", ["babble-snr20", "opus"])
def test_no_gain_on_a_noisy_leg_from_its_first_frame(
    librivox_wav: Path, eval_data: Path, condition: str
) -> None:
    """Read speech at -22 dBFS over babble or Opus: the leg's noise floor is far above Vosk's dither,
    so the recognizer gets the audio as received from the very first frame. (The breath and onset
    before the first word once set the speech level 20 dB low and the pre-roll and first word were
    boosted by 20 dB: Vosk lost the first word.)"""
    x = decode_file(librivox_wav, target_rate=RATE).samples[0]
    noise = noise_bank_for(eval_data, librivox_wav.parent)
    pcm = degraded_pcm(x, RATE, CONDITIONS[condition], noise, librivox_wav.name)
    out, seg = _run(pcm)
    streamed = [o for o in out if isinstance(o, SpeechAudio)]
    assert streamed and streamed[0].start == pytest.approx(0.0, abs=1e-9)
    received = [pcm[round(o.start * RATE) * 2 :][: len(o.pcm)] for o in streamed]
    # (the last frame of the clip is partial: the VAD pads it with silence)
    assert all(o.pcm[: len(r)] == r for o, r in zip(streamed, received, strict=True))
    assert seg.level.gain_db == 0.0


def test_quiet_speech_in_its_own_noise_is_detected_at_the_normalised_level(eval_data: Path) -> None:
    """Spontaneous speech recorded with audible room noise (MFA ``cold_corpus3.wav``: about 10 dB
    between the speech and its noise), 20 dB down: the noise floor (about -65 dBFS) keeps the
    recognizer's gain at 0 (``agc_noise_ceiling_dbfs``), but webrtcvad, whose own energy threshold
    finds little speech at -55 dBFS, judges the frames normalised toward ``agc_target_dbfs``.
    Measured: 22.3 s of segments (19.8 s when webrtcvad judged the frames at the recognizer's
    gain)."""
    path = eval_data / "speech/en/mfa_spontaneous/cold_corpus3.wav"
    x = decode_file(path, target_rate=RATE).samples[0]
    out, seg = _run(float_to_pcm16(x * 10 ** (-20 / 20)))
    assert seg.level.gain_db == 0.0
    assert seg.level.noise_dbfs > VadSettings().agc_noise_ceiling_dbfs - 3.0
    assert sum(end - start for start, end in _spans(out)) > 21.0, _spans(out)
