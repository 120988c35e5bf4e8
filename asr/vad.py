"""Streaming speech segmentation with webrtcvad.

The segmenter consumes a leg's continuous 16-bit PCM in chunks of any size, classifies fixed
10/20/30 ms frames with webrtcvad and applies start/end hysteresis:

* speech **starts** when at least ``start_ratio`` of the frames in the last ``start_window_ms`` are
  voiced; the audio of that window plus ``pre_roll_ms`` before it is emitted first, so word onsets
  are not clipped;
* speech **ends** when at least ``end_ratio`` of the frames in the last ``end_window_ms`` are
  unvoiced (that trailing silence stays in the segment as the recognizer's end context), or when a
  segment reaches ``max_segment_ms``;
* a frame is voiced only when it also stands ``noise_margin_db`` above the leg's own noise floor
  (and above the absolute ``energy_floor_dbfs``): webrtcvad alone calls line hiss speech, and an
  absolute floor would throw away quiet speech (see :mod:`asr.level`);
* quiet speech is normalised (AGC) before webrtcvad and in the audio handed to the recognizer;
  the segments themselves keep the audio as received;
* a segment with less than ``min_speech_ms`` of voiced frames is flagged ``too_short``.

Times are call-clock seconds: the first sample pushed is at ``t0``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from agent_monitor.errors import AudioFormatError
from agent_monitor.model.audio import BYTES_PER_SAMPLE, Leg, SpeechSegment
from agent_monitor.settings import VadSettings
from asr.level import LegLevel, LevelTracker, apply_gain, frame_power

VAD_RATES = (8000, 16000, 32000, 48000)


@dataclass(frozen=True, slots=True)
class SpeechAudio:
    """Speech audio to hand to the recognizer, in order, level-normalised; ``start`` in call seconds."""

    start: float
    pcm: bytes


@dataclass(frozen=True, slots=True)
class SpeechEnded:
    """The current speech segment is over; ``segment`` holds all of its audio, as received."""

    segment: SpeechSegment
    too_short: bool


VadOutput = SpeechAudio | SpeechEnded


class VadSegmenter:
    """webrtcvad with hysteresis and pre-roll, for one leg."""

    def __init__(self, cfg: VadSettings, sample_rate: int, leg: Leg, t0: float = 0.0) -> None:
        import webrtcvad

        if sample_rate not in VAD_RATES:
            raise AudioFormatError("VAD", f"sample rate {sample_rate} Hz not supported (use {VAD_RATES})")
        self.cfg = cfg
        self.leg = leg
        self.sample_rate = sample_rate
        self._vad = webrtcvad.Vad(cfg.aggressiveness)
        self._frame_bytes = sample_rate * cfg.frame_ms // 1000 * BYTES_PER_SAMPLE
        self._frame_s = cfg.frame_ms / 1000.0
        n_start = max(1, cfg.start_window_ms // cfg.frame_ms)
        n_end = max(1, cfg.end_window_ms // cfg.frame_ms)
        n_pre = cfg.pre_roll_ms // cfg.frame_ms
        self._start_flags: deque[bool] = deque(maxlen=n_start)
        self._end_flags: deque[bool] = deque(maxlen=n_end)
        self._pending: deque[bytes] = deque(maxlen=n_start + n_pre)  # audio before onset
        self._max_frames = cfg.max_segment_ms // cfg.frame_ms
        self._level = LevelTracker(cfg, self._frame_s)
        self._buf = b""
        self._t = t0  # call time of the next whole frame
        self._in_speech = False
        self._seg_start = 0.0
        self._seg_frames: list[bytes] = []
        self._seg_voiced = 0
        self.frames_seen = 0
        self.frames_voiced = 0

    @property
    def in_speech(self) -> bool:
        return self._in_speech

    @property
    def level(self) -> LegLevel:
        """The leg's noise floor, speech level and normalising gain now."""
        return self._level.level()

    @property
    def time(self) -> float:
        """Call time up to which audio has been classified."""
        return self._t

    def push(self, pcm: bytes) -> list[VadOutput]:
        """Add continuous audio; return recognizer input and segment ends, in order."""
        out: list[VadOutput] = []
        data = self._buf + pcm
        fb = self._frame_bytes
        n_whole = len(data) // fb
        for i in range(n_whole):
            self._frame(data[i * fb : (i + 1) * fb], out)
        self._buf = data[n_whole * fb :]
        return out

    def flush(self) -> list[VadOutput]:
        """End of stream: close an open segment (a partial last frame is padded with silence)."""
        out: list[VadOutput] = []
        if self._buf and self._in_speech:
            self._frame(self._buf + b"\x00" * (self._frame_bytes - len(self._buf)), out)
        self._buf = b""
        if self._in_speech:
            self._end(out)
        return out

    def _frame(self, frame: bytes, out: list[VadOutput]) -> None:
        power = frame_power(frame)
        above_noise = self._level.observe(power)
        gain = self._level.gain
        gained = apply_gain(frame, gain)
        detect = gained if self._level.detect_gain == gain else apply_gain(frame, self._level.detect_gain)
        voiced = above_noise and self._vad.is_speech(detect, self.sample_rate)
        if voiced:
            self._level.speech(power)
        self.frames_seen += 1
        self.frames_voiced += voiced
        start = self._t
        self._t += self._frame_s
        if not self._in_speech:
            self._pending.append(frame)
            self._start_flags.append(voiced)
            full = len(self._start_flags) == self._start_flags.maxlen
            if full and sum(self._start_flags) >= self.cfg.start_ratio * len(self._start_flags):
                self._begin(start + self._frame_s, out)
            return
        self._seg_frames.append(frame)
        self._seg_voiced += voiced
        self._end_flags.append(voiced)
        out.append(SpeechAudio(start, gained))
        full = len(self._end_flags) == self._end_flags.maxlen
        silent = full and (len(self._end_flags) - sum(self._end_flags)) >= self.cfg.end_ratio * len(
            self._end_flags
        )
        if silent or len(self._seg_frames) >= self._max_frames:
            self._end(out)

    def _begin(self, now: float, out: list[VadOutput]) -> None:
        frames = list(self._pending)
        self._pending.clear()
        self._in_speech = True
        self._seg_start = max(0.0, now - len(frames) * self._frame_s)
        self._seg_frames = frames
        self._seg_voiced = sum(self._start_flags)
        self._start_flags.clear()
        self._end_flags.clear()
        gain = self._level.gain
        out.append(SpeechAudio(self._seg_start, b"".join(apply_gain(f, gain) for f in frames)))

    def _end(self, out: list[VadOutput]) -> None:
        pcm = b"".join(self._seg_frames)
        seg = SpeechSegment(
            leg=self.leg,
            start=self._seg_start,
            end=self._seg_start + len(pcm) / BYTES_PER_SAMPLE / self.sample_rate,
            pcm=pcm,
            sample_rate=self.sample_rate,
        )
        too_short = self._seg_voiced * self.cfg.frame_ms < self.cfg.min_speech_ms
        out.append(SpeechEnded(seg, too_short))
        self._in_speech = False
        self._seg_frames = []
        self._seg_voiced = 0
        self._end_flags.clear()
