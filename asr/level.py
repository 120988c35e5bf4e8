"""Per-leg level tracking: the leg's noise floor, its speech level and the gain that normalises it.

Speech detection must not depend on the recording level: a soft-spoken debtor, a low-gain desktop
capture or a weak far end put speech at -60 dBFS, where an absolute energy floor throws it away,
while the line hiss of an ordinary telephone leg sits at about the same level. So a frame's level
is judged against the leg's own noise:

* **noise floor** (minimum statistics): the quietest 90 ms stretch (power mean of three frames) of
  last ``vad.noise_window_ms`` of frames above the absolute floor. Frames at or below it
  (``vad.energy_floor_dbfs``: digital silence, lost packets) say nothing about the noise and are
  left out, so a run of zeros does not pull the floor down and open the gate for the hiss after it;
* a frame **stands above the noise** when it is at least ``vad.noise_margin_db`` above that floor
  and above the absolute floor, or when it is at least ``vad.loud_dbfs`` (-50) loud: at ordinary
  speech levels webrtcvad alone decides, as before (judging every frame against a floor that
  follows the dips of continuous speech cut words). The first frame of a leg is its own floor, so
  the test holds from the first frame of a call;
* **speech level**: the power of the frames the VAD finally calls speech, followed quickly upward
  (0.1 s) and slowly downward (2 s), so it sits at or above the speech's active level;
* **gain** (AGC): quiet speech is raised toward ``vad.agc_target_dbfs`` for webrtcvad and toward
  ``vad.agc_recognizer_target_dbfs`` (-33) for Vosk, so speech at an ordinary recorded level
  (RAVDESS, about -36 dBFS) reaches Vosk nearly as received, at most by ``vad.agc_max_gain_db``
  and never lowered. Vosk's feature extraction adds dither of about one 16-bit step, which drowns
  speech at -60 dBFS (measured: WER 20.7% raw vs 10.3% normalised on the LibriSpeech clips 40 dB
  down); webrtcvad also finds less speech there. The gain never lifts the leg's noise floor above
  ``vad.agc_noise_ceiling_dbfs``: gain helps quiet *clean* speech, where the
  dither is the noise; on a leg whose own noise is far above the dither it only changes the level
  Vosk hears. That bound also holds at a leg's first frames, before its speech level is known: the
  first voiced frames are often a breath or a word onset 20 dB below the speech, and a gain set
  from them (applied to the pre-roll and the onset, then dropped within 0.3 s) cost the first word
  of read clips under babble, A-law and Opus (tuning split, see README).

Levels are dB relative to full scale of 16-bit PCM (a full-scale square wave is 0 dBFS).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from agent_monitor.settings import VadSettings

#: frames averaged before the minimum is taken (3 x 30 ms: the minimum of single frames is biased low)
SMOOTH_FRAMES = 3
#: time constants (seconds of speech frames) of the speech level: rising, falling
SPEECH_RISE_S = 0.1
SPEECH_FALL_S = 2.0
_FULL_SCALE_POWER = 32768.0**2


@dataclass(frozen=True, slots=True)
class LegLevel:
    """A leg's levels now, in dBFS; ``speech_dbfs`` is None until the leg has spoken. Gains in dB:
    ``gain_db`` is what Vosk gets, ``detect_gain_db`` what webrtcvad judges."""

    noise_dbfs: float
    speech_dbfs: float | None
    gain_db: float
    detect_gain_db: float


def frame_power(frame: bytes) -> float:
    """Mean power of 16-bit little-endian PCM, relative to full scale (1.0 = 0 dBFS)."""
    x = np.frombuffer(frame, dtype="<i2").astype(np.float32)
    return float(np.dot(x, x)) / max(1, len(x)) / _FULL_SCALE_POWER


def to_db(power: float) -> float:
    return 10.0 * math.log10(power) if power > 0 else -200.0


def apply_gain(frame: bytes, gain: float) -> bytes:
    """16-bit PCM scaled by a linear ``gain``, clipped to the 16-bit range."""
    if gain == 1.0:
        return frame
    x = np.frombuffer(frame, dtype="<i2").astype(np.float32) * np.float32(gain)
    return np.clip(np.round(x), -32768, 32767).astype("<i2").tobytes()


class LevelTracker:
    """Noise floor, speech level and AGC gain of one leg, updated frame by frame."""

    def __init__(self, cfg: VadSettings, frame_s: float) -> None:
        self.cfg = cfg
        self._floor_db = cfg.energy_floor_dbfs
        self._recent: deque[float] = deque(maxlen=SMOOTH_FRAMES)  # powers of the last frames
        #: the smoothed levels of the last ``_window`` frames above the floor, as a sliding-window
        #: minimum: (frame number, dB) with rising dB, so the oldest is the window's minimum
        self._window = max(1, round(cfg.noise_window_ms / 1000 / frame_s))
        self._minima: deque[tuple[int, float]] = deque()
        self._observed = 0
        self._speech_power: float | None = None
        self._rise = 1.0 - math.exp(-frame_s / SPEECH_RISE_S)
        self._fall = 1.0 - math.exp(-frame_s / SPEECH_FALL_S)
        self._gain = 1.0
        self._detect_gain = 1.0

    def observe(self, power: float) -> bool:
        """Add the next frame's power; True when it stands far enough above the noise floor."""
        db = to_db(power)
        if db <= self._floor_db:
            return False
        self._recent.append(power)
        self._add_level(to_db(sum(self._recent) / len(self._recent)))
        return db >= min(self.cfg.loud_dbfs, self.noise_dbfs + self.cfg.noise_margin_db)

    def _add_level(self, db: float) -> None:
        """Slide the noise window on by one level (amortised O(1), not a scan of the window)."""
        minima = self._minima
        while minima and minima[-1][1] >= db:
            minima.pop()
        minima.append((self._observed, db))
        self._observed += 1
        if minima[0][0] <= self._observed - 1 - self._window:
            minima.popleft()

    def speech(self, power: float) -> None:
        """A frame the VAD called speech: follow the speech level and update the gain."""
        p = self._speech_power
        if p is None:
            p = power
        else:
            p += (power - p) * (self._rise if power > p else self._fall)
        self._speech_power = p
        level_db = to_db(p)
        detect_db = min(self.cfg.agc_max_gain_db, max(0.0, self.cfg.agc_target_dbfs - level_db))
        gain_db = min(
            detect_db,
            max(0.0, self.cfg.agc_recognizer_target_dbfs - level_db),
            max(0.0, self.cfg.agc_noise_ceiling_dbfs - self.noise_dbfs),
        )
        self._gain = 10.0 ** (gain_db / 20.0)
        self._detect_gain = 10.0 ** (detect_db / 20.0)

    @property
    def noise_dbfs(self) -> float:
        """The leg's noise floor (the absolute floor until a frame above it has been seen)."""
        return self._minima[0][1] if self._minima else self._floor_db

    @property
    def gain(self) -> float:
        """Linear gain that brings the leg's speech toward the target level (1.0 = none)."""
        return self._gain

    @property
    def detect_gain(self) -> float:
        """Linear gain of the audio webrtcvad judges: toward ``agc_target_dbfs``, without the noise
        ceiling (:attr:`gain` is at most this).

        webrtcvad has its own energy threshold and finds little speech at -55 dBFS; the ceiling
        keeps a noisy leg's level unchanged *for Vosk*, but the detector may hear it normalised,
        because the noise test (:meth:`observe`) already keeps the leg's noise out."""
        return self._detect_gain

    def level(self) -> LegLevel:
        speech = None if self._speech_power is None else to_db(self._speech_power)
        return LegLevel(
            self.noise_dbfs, speech, 20.0 * math.log10(self._gain), 20.0 * math.log10(self._detect_gain)
        )
