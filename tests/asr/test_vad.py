"""webrtcvad segmentation on real speech: hysteresis, pre-roll, call-clock times."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agent_monitor.audio.decode import decode_file, float_to_pcm16, split_legs
from agent_monitor.errors import AudioFormatError
from agent_monitor.model.audio import Leg
from agent_monitor.settings import VadSettings
from asr.vad import SpeechAudio, SpeechEnded, VadOutput, VadSegmenter

RATE = 16000


def _run(pcm: bytes, cfg: VadSettings | None = None, chunk: int = 3200, t0: float = 0.0) -> list[VadOutput]:
    seg = VadSegmenter(cfg or VadSettings(), RATE, Leg.DEBTOR, t0=t0)
    out: list[VadOutput] = []
    for i in range(0, len(pcm), chunk):
        out += seg.push(pcm[i : i + chunk])
    return out + seg.flush()


def _ends(out: list[VadOutput]) -> list[SpeechEnded]:
    return [o for o in out if isinstance(o, SpeechEnded)]


@pytest.fixture(scope="module")
def padded_speech(librispeech_flac: Path) -> tuple[bytes, float]:
    """A real utterance with 2 s of silence before and after; returns (pcm, speech duration)."""
    x = decode_file(librispeech_flac, target_rate=RATE).samples[0]
    silence = np.zeros(2 * RATE, dtype=np.float32)
    return float_to_pcm16(np.concatenate([silence, x, silence])), len(x) / RATE


def test_segments_cover_the_speech_and_not_the_silence(padded_speech: tuple[bytes, float]) -> None:
    pcm, duration = padded_speech
    ends = _ends(_run(pcm))
    assert ends, "no speech found in a real utterance"
    first, last = ends[0].segment, ends[-1].segment
    # the reader starts within the first 0.5 s of the clip; pre-roll keeps the onset
    assert 1.6 <= first.start <= 2.3
    assert last.end >= 2.0 + duration - 0.6
    assert last.end <= 2.0 + duration + 1.0
    assert all(not e.too_short for e in ends)


def test_audio_handed_to_recognizer_equals_segments(padded_speech: tuple[bytes, float]) -> None:
    """Without level normalisation (see test_level.py for it) the recognizer gets the audio as is."""
    pcm, _ = padded_speech
    out = _run(pcm, VadSettings(agc_max_gain_db=0))
    streamed = b"".join(o.pcm for o in out if isinstance(o, SpeechAudio))
    assert streamed == b"".join(e.segment.pcm for e in _ends(out))
    # every SpeechAudio's time is where that audio sits in the input
    for o in out:
        if isinstance(o, SpeechAudio):
            offset = round(o.start * RATE) * 2
            assert pcm[offset : offset + len(o.pcm)] == o.pcm


def test_chunk_size_does_not_change_segments(padded_speech: tuple[bytes, float]) -> None:
    pcm, _ = padded_speech
    a = [(e.segment.start, e.segment.end) for e in _ends(_run(pcm, chunk=3200))]
    b = [(e.segment.start, e.segment.end) for e in _ends(_run(pcm, chunk=998))]
    assert a == b


def test_call_clock_offset(padded_speech: tuple[bytes, float]) -> None:
    pcm, _ = padded_speech
    a = _ends(_run(pcm))
    b = _ends(_run(pcm, t0=100.0))
    assert [round(e.segment.start + 100.0, 6) for e in a] == [round(e.segment.start, 6) for e in b]


def test_silence_and_line_hiss_are_not_speech() -> None:
    rng = np.random.default_rng(7)
    hiss = (rng.normal(0, 10 ** (-62 / 20), 5 * RATE)).astype(np.float32)  # -62 dBFS noise
    assert _ends(_run(float_to_pcm16(np.zeros(5 * RATE, dtype=np.float32)))) == []
    assert _ends(_run(float_to_pcm16(hiss))) == []


def test_quiet_telephone_leg_is_gated(call_opus: Path) -> None:
    """The debtor channel of the real call has low-level line noise between turns."""
    legs = split_legs(decode_file(call_opus, target_rate=RATE), None, "left")
    voiced = sum(e.segment.duration for e in _ends(_run(legs[Leg.DEBTOR])))
    # measured 145 s of 183 s (90 s with the former absolute -50 dBFS floor, which lost quiet
    # speech; 181 s with no floor at all): the comfort-noise bursts between runs of zeros on this
    # leg pass the noise gate (Vosk makes no words of them: see test_level.py)
    assert 40 < voiced < 160


def test_short_click_flagged(padded_speech: tuple[bytes, float]) -> None:
    cfg = VadSettings(start_window_ms=90, start_ratio=0.6, min_speech_ms=2000)
    ends = _ends(_run(padded_speech[0][: int(2.8 * RATE) * 2], cfg))
    assert ends and ends[0].too_short


def test_max_segment_cuts_long_speech(padded_speech: tuple[bytes, float]) -> None:
    ends = _ends(_run(padded_speech[0], VadSettings(max_segment_ms=3000)))
    assert len(ends) >= 3
    assert all(e.segment.duration <= 3.0 + 1e-6 for e in ends)


def test_unsupported_rate() -> None:
    with pytest.raises(AudioFormatError, match="sample rate 22050"):
        VadSegmenter(VadSettings(), 22050, Leg.AGENT)
