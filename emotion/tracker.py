"""Live stress tracking of one leg: audio in on the call clock, a stress sample every hop out.

See :mod:`emotion` for the interface the live pipeline uses.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from agent_monitor.errors import StressError
from agent_monitor.model.audio import BYTES_PER_SAMPLE, AudioFrame, Leg
from agent_monitor.model.stress import (
    BaselineStatus,
    StressEpisode,
    StressEvent,
    StressLevel,
    StressSample,
)
from agent_monitor.model.transcript import Word
from agent_monitor.settings import Settings, StressSettings
from emotion.baseline import SpeakerBaseline
from emotion.features import FEATURE_NAMES, WindowFeatures, speech_masks, window_features
from emotion.frames import ANALYSIS_RATE, FRAME, FRAME_RATE, FrameAnalyzer, Frames, empty_frames
from emotion.levels import LevelTracker
from emotion.model import StressModel, load_model

#: input gaps up to this long are filled with silence; longer ones restart the analysis
MAX_GAP_FILL_S = 60.0
#: the window's speech reference never drops more than this below the speaker's running level
REF_DROP_DB = 15.0
_RATE = FEATURE_NAMES.index("rate")
#: a hop is analysed once this much audio past it has arrived (one frame plus resampler delay)
HOP_LAG_S = FRAME / ANALYSIS_RATE + 0.02


def pcm16_to_float(pcm: bytes) -> npt.NDArray[np.float32]:
    """16-bit little-endian mono PCM bytes to float32 samples in [-1, 1)."""
    if len(pcm) % BYTES_PER_SAMPLE:
        raise StressError(f"PCM length {len(pcm)} is not a whole number of 16-bit samples")
    return (np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0).astype(np.float32)


class StressTracker:
    """Stress of one leg, fed incrementally; emits a :class:`StressSample` every ``hop_s``.

    Until the speaker baseline holds ``baseline_speech_s`` of voiced speech the score is absolute
    (population model); afterwards it is relative to the baseline. A baseline may also be given
    up front (``baseline=``), e.g. from reference speech of the same speaker, with the ASR word
    rate of that speech (``baseline_word_rate``, words per second of speech) if known.
    """

    def __init__(
        self,
        settings: StressSettings,
        model: StressModel,
        sample_rate: int,
        leg: Leg = Leg.DEBTOR,
        start: float = 0.0,
        baseline: SpeakerBaseline | None = None,
        baseline_word_rate: float | None = None,
    ) -> None:
        if sample_rate < 8000 or sample_rate > 192000:
            raise StressError(f"sample rate {sample_rate} Hz is not supported (8000-192000 Hz)")
        self.settings = settings
        self.model = model
        self.sample_rate = int(sample_rate)
        self.leg = leg
        self.baseline = baseline or SpeakerBaseline(settings.baseline_speech_s, settings.baseline_update_s)
        self._levels = LevelTracker(settings)
        self._analyzer = FrameAnalyzer(self.sample_rate, start)
        self._t_in = float(start)  # call time of the next input sample
        self._pending: list[npt.NDArray[np.float32]] = []
        self._pending_n = 0
        self._batch_samples = max(1, round(2 * settings.hop_s * self.sample_rate))
        self._store: Frames = empty_frames(start)
        self._next_hop = float(start) + settings.hop_s
        self._last_hop_t = float(start)
        self._speech_ref: float | None = None
        self._words: list[Word] = []
        self._words_until = -math.inf
        self._base_word_rates: list[float] = []
        self._base_word_rate: float | None = baseline_word_rate
        self._events: list[StressEvent] = []
        self._episodes: list[StressEpisode] = []
        self._episode: tuple[float, StressLevel, float] | None = None  # start, peak level, peak score
        self.samples: list[StressSample] = []
        self._finished = False

    @classmethod
    def for_leg(
        cls, settings: Settings, sample_rate: int, leg: Leg = Leg.DEBTOR, start: float = 0.0
    ) -> StressTracker:
        """A tracker with the trained model named in ``settings.stress.model_file``."""
        return cls(settings.stress, load_model(settings.stress.model_file), sample_rate, leg, start)

    # --- input ---------------------------------------------------------------------------------
    @property
    def baseline_status(self) -> BaselineStatus:
        return BaselineStatus.RELATIVE if self.baseline.ready else BaselineStatus.ABSOLUTE

    @property
    def level(self) -> StressLevel:
        return self._levels.level

    @property
    def time(self) -> float:
        """Call time up to which audio has been received."""
        return self._t_in

    def push_frame(self, frame: AudioFrame) -> list[StressSample]:
        """Feed one :class:`AudioFrame` of this leg; returns the samples that became due."""
        if frame.leg is not self.leg:
            raise StressError(f"stress tracker of the {self.leg} leg was fed a {frame.leg} frame")
        if frame.sample_rate != self.sample_rate:
            raise StressError(
                f"frame sample rate {frame.sample_rate} Hz differs from the leg's {self.sample_rate} Hz"
            )
        return self.push_samples(pcm16_to_float(frame.pcm), frame.start)

    def push_pcm(self, pcm: bytes, start: float | None = None) -> list[StressSample]:
        """Feed 16-bit mono PCM at the tracker's sample rate (``start``: call time of its first sample)."""
        return self.push_samples(pcm16_to_float(pcm), start)

    def push_samples(self, samples: npt.ArrayLike, start: float | None = None) -> list[StressSample]:
        """Feed float samples in [-1, 1]; ``start`` defaults to right after the previous input."""
        if self._finished:
            raise StressError("stress tracker already finished; create a new one for new audio")
        x = np.asarray(samples, dtype=np.float32).reshape(-1)
        if x.size and not np.all(np.isfinite(x)):
            raise StressError("audio contains NaN or infinite samples")
        x = np.clip(x, -1.0, 1.0)
        out: list[StressSample] = []
        if start is not None:
            gap = float(start) - self._t_in
            if gap > MAX_GAP_FILL_S:
                out += self._restart(float(start))
            elif gap * self.sample_rate >= 1.0:
                x = np.concatenate([np.zeros(round(gap * self.sample_rate), np.float32), x])
            elif -gap * self.sample_rate >= 1.0:  # overlap: drop what was already received
                x = x[min(x.size, round(-gap * self.sample_rate)) :]
        self._t_in += x.size / self.sample_rate
        # analyse in batches of about one hop (numpy costs are per call, not per sample), as soon
        # as the audio for the next due hop, plus one frame, has arrived
        self._pending.append(x)
        self._pending_n += x.size
        if self._t_in >= self._next_hop + HOP_LAG_S or self._pending_n >= self._batch_samples:
            self._analyse_pending()
            out += self._emit_due()
        return out

    def _analyse_pending(self, last: bool = False) -> None:
        x = np.concatenate(self._pending) if self._pending else np.zeros(0, np.float32)
        self._pending, self._pending_n = [], 0
        self._append(self._analyzer.flush() if last and not x.size else self._analyzer.push(x, last=last))

    def add_words(self, words: Iterable[Word], until: float | None = None) -> None:
        """Give ASR words of this leg; the speaking rate then comes from them.

        ``until`` is the call time up to which the recogniser has delivered all words (default: the
        end of the last word); windows ending later use syllable nuclei instead.
        """
        new = [w for w in words if w.text.strip()]
        self._words.extend(new)
        self._words.sort(key=lambda w: w.start)
        if until is None and new:
            until = max(w.end for w in new)
        if until is not None:
            self._words_until = max(self._words_until, float(until))

    def finish(self) -> list[StressSample]:
        """End of the leg: analyse the buffered tail and return the last samples."""
        if self._finished:
            return []
        self._analyse_pending(last=True)
        out = self._emit_due(final=True)
        self._finished = True
        if self._episode is not None:
            self._close_episode(self._last_hop_t)
        return out

    def drain_events(self) -> list[StressEvent]:
        """Level changes since the last call (oldest first)."""
        events, self._events = self._events, []
        return events

    @property
    def episodes(self) -> list[StressEpisode]:
        """Closed stretches above level none so far."""
        return list(self._episodes)

    # --- internals ------------------------------------------------------------------------------
    def _restart(self, start: float) -> list[StressSample]:
        self._analyse_pending(last=True)
        out = self._emit_due(final=True, upto=self._t_in)
        self._analyzer = FrameAnalyzer(self.sample_rate, start)
        self._store = empty_frames(start)
        self._t_in = start
        hop = self.settings.hop_s
        self._next_hop = self._next_hop + hop * math.ceil(max(0.0, start - self._next_hop) / hop)
        return out

    def _append(self, frames: Frames) -> None:
        if len(frames) == 0:
            return
        store = Frames.concat([self._store, frames]) if len(self._store) else frames
        # keep what the next due hop's window still needs
        first_needed = int((self._next_hop - self.settings.window_s - store.t0) * FRAME_RATE) - 1
        if first_needed > 0:
            store = store.slice(first_needed, len(store))
        self._store = store

    def _emit_due(self, final: bool = False, upto: float | None = None) -> list[StressSample]:
        out: list[StressSample] = []
        ready_until = self._store.t0 + len(self._store) / FRAME_RATE
        if final:
            ready_until = max(ready_until, self._t_in if upto is None else upto)
        while self._next_hop <= ready_until + 1e-9:
            out.append(self._score_hop(self._next_hop))
            self._next_hop += self.settings.hop_s
        if final and self._last_hop_t < self._t_in - 1e-6 and (upto is None):
            # a last, partial hop so the tail of the leg is scored too
            out.append(self._score_hop(self._t_in))
        return out

    def _window(self, t: float) -> Frames:
        centres = self._store.times
        lo = int(np.searchsorted(centres, t - self.settings.window_s, side="right"))
        hi = int(np.searchsorted(centres, t, side="right"))
        return self._store.slice(lo, hi)

    def _words_in(self, t: float) -> list[Word] | None:
        if not self._words or self._words_until < t:
            return None
        lo = t - self.settings.window_s
        return [w for w in self._words if w.end > lo and w.start < t]

    def _score_hop(self, t: float) -> StressSample:
        s = self.settings
        dt = t - self._last_hop_t
        window = self._window(t)
        ref: float | None = None
        if len(window):
            ref = float(np.percentile(window.energy_db, 95))
            if self._speech_ref is not None:
                ref = max(ref, self._speech_ref - REF_DROP_DB)
        feats = window_features(window, ref) if len(window) else None
        raw: float | None = None
        status = self.baseline_status
        if feats is not None:
            self._speech_ref = (
                feats.ref_db if self._speech_ref is None else 0.9 * self._speech_ref + 0.1 * feats.ref_db
            )
            _, voiced, _ = speech_masks(window, feats.ref_db)
            new_voiced_s = float(np.count_nonzero(voiced[window.times > t - dt])) / FRAME_RATE
            word_rate = self._word_rate(t, feats)
            if self.baseline.ready:
                values = self._relative_rate(feats, word_rate)
                raw = self.model.score_relative(values, self.baseline.value)
                status = BaselineStatus.RELATIVE
            else:
                raw = self.model.score_absolute(feats.values)
                status = BaselineStatus.ABSOLUTE
                if word_rate is not None:
                    self._base_word_rates.append(word_rate)
                if self.baseline.add(feats, new_voiced_s) and self._base_word_rates:
                    self._base_word_rate = float(np.median(self._base_word_rates))
        previous = self._levels.step(t, raw, dt)
        if (
            feats is not None
            and raw is not None
            and status is BaselineStatus.RELATIVE
            and self._levels.level is StressLevel.NONE
            and raw < s.elevated_off
        ):
            self.baseline.update(feats, dt)
        score = round(self._levels.score, 2)
        level = self._levels.level
        self._follow_level(t, previous, level, score, status)
        sample = StressSample(
            t=round(t, 3),
            score=score,
            level=level,
            baseline=status,
            raw=None if raw is None else round(raw, 2),
            speech_s=0.0 if feats is None else round(feats.voiced_s, 2),
            leg=self.leg,
        )
        self.samples.append(sample)
        self._last_hop_t = t
        return sample

    def _follow_level(
        self, t: float, previous: StressLevel | None, level: StressLevel, score: float, status: BaselineStatus
    ) -> None:
        """Record a level change (``previous`` is the level before it, ``None`` when unchanged)
        as an event, and open, extend or close the current episode."""
        if previous is not None:
            self._events.append(StressEvent(t, level, previous, score, status, self.leg))
            if previous is StressLevel.NONE:
                self._episode = (t, level, score)
            elif level is StressLevel.NONE:
                self._close_episode(t)
        if self._episode is not None:
            start, peak, peak_score = self._episode
            self._episode = (start, level if level.rank > peak.rank else peak, max(peak_score, score))

    def _close_episode(self, t: float) -> None:
        if self._episode is None:
            return
        start, peak, peak_score = self._episode
        self._episodes.append(StressEpisode(start, t, peak, peak_score, self.leg))
        self._episode = None

    def _word_rate(self, t: float, feats: WindowFeatures) -> float | None:
        words = self._words_in(t)
        if words is None:
            return None
        return len(words) / max(feats.speech_s, 0.1)

    def _relative_rate(self, feats: WindowFeatures, word_rate: float | None) -> np.ndarray:
        """Window features, the rate taken from ASR words when both window and baseline have them.

        Word rate and syllable-nucleus rate have different units, so the window's word rate is
        turned into a proportional change from the baseline word rate and applied to the
        baseline's nucleus rate: the model sees the same unit it was trained on.
        """
        values = feats.values
        if word_rate is None or not self._base_word_rate:
            return values
        values = values.copy()
        values[_RATE] = self.baseline.value[_RATE] * word_rate / self._base_word_rate
        return values


def score_clip(
    samples: npt.ArrayLike,
    sample_rate: int,
    settings: StressSettings,
    model: StressModel,
    baseline: SpeakerBaseline | None = None,
) -> tuple[float, WindowFeatures, list[StressSample]]:
    """Score a whole clip: (clip score 0-100, clip features, timeline of tracker samples).

    The clip score uses the whole clip as one window (as in training); the timeline is what the
    live tracker would have emitted for the same audio. Raises :class:`StressError` when the clip
    holds too little voiced speech to score.
    """
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    feats = clip_features(x, sample_rate)
    if baseline is not None and baseline.ready:
        score = model.score_relative(feats.values, baseline.value)
    else:
        score = model.score_absolute(feats.values)
    tracker = StressTracker(settings, model, sample_rate, baseline=baseline)
    timeline = tracker.push_samples(x) + tracker.finish()
    return score, feats, timeline


def clip_features(samples: npt.ArrayLike, sample_rate: int) -> WindowFeatures:
    """Features of a whole clip as one window; :class:`StressError` if it has too little speech."""
    from emotion.frames import frames_of

    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    if x.size and not np.all(np.isfinite(x)):
        raise StressError("audio contains NaN or infinite samples")
    if sample_rate < 8000:
        raise StressError(f"sample rate {sample_rate} Hz is too low (need at least 8000 Hz)")
    feats = window_features(frames_of(np.clip(x, -1.0, 1.0), sample_rate))
    if feats is None:
        raise StressError(
            f"too little voiced speech to score ({x.size / sample_rate:.2f} s of audio; need about 0.2 s "
            "of voiced speech): silence, noise or a very short clip"
        )
    return feats
