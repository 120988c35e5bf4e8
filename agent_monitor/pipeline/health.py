"""Signal health of a call's legs: the monitor says when it cannot hear.

:class:`CallHealth` takes every frame a session receives (16-bit PCM after decoding, before the
recognition queue, so dropped recognition audio is still measured), feeds each leg's
:class:`~agent_monitor.pipeline.health_meter.LegMeter` and turns the meters' readings into
:class:`~agent_monitor.model.events.SignalHealth` events, one when an issue starts and one when it
clears (thresholds: ``settings.health``):

* ``silent``: no speech on the leg for ``silent_s`` (also when the leg sends no audio at all);
* ``one_way``: the leg carries nothing (below ``dead_dbfs``, or no audio) for ``one_way_s`` while
  the other leg speaks, and the other leg has stopped after speaking (for ``one_way_pause_s``)
  ``one_way_pauses`` times since without an answer: the other party waited for the dead leg. A
  long monologue against a leg sent with silence suppression, or a synthetic call's digital
  silence, is not one-way audio;
* ``low_level``: active speech level below ``low_level_dbfs``;
* ``noisy``: a noise floor of at least ``noisy_floor_dbfs`` with speech less than ``noisy_snr_db``
  above it (or no speech to be found in it), or speech peaks less than ``noisy_snr_db`` above a
  quieter floor;
* ``clipping``: more than ``clipping_share`` of the samples at full scale;
* ``unclear``: the leg's speech is heard but the recognizer is unsure of what it makes of it, or
  makes nothing of it: the mean of Vosk's word confidences over the leg's last ``unclear_words``
  final words is below ``unclear_conf`` (clears ``CONF_RELEASE`` above it), or at least
  ``unclear_wordless_share`` of the leg's last ``unclear_speech_s`` seconds of VAD speech gave no
  word at all (clears ``SHARE_RELEASE`` below it; deleted words show in no confidence). Judged on
  the finals, :meth:`CallHealth.heard`; not started while ``encoding_mismatch`` is active. On
  such lines most words are lost or wrong, so rules miss what is said: the supervisor should
  listen;
* ``encoding_mismatch``: at least ``mismatch_s`` of loud white-like noise in the window and at
  least twice as much of it as of speech-like loud audio: the bytes are plainly not the declared
  encoding (mu-law bytes sent as L16 sound like that). While any white-like audio is in the
  window, the level issues of the leg are not judged (their figures mean nothing then).

Hysteresis: a level issue starts once its condition has held for ``onset_s`` and clears once it
has not held for ``clear_s``, with a looser threshold while active; silence and one-way audio
start at their duration and clear as soon as speech (signal) returns. So each episode gives one
start and one clear event, never a storm. Pure and cheap: numpy on the event loop, no I/O.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field

from agent_monitor.model.audio import Leg
from agent_monitor.model.events import SignalHealth
from agent_monitor.model.health import HealthIssue, LegHealth
from agent_monitor.model.transcript import Transcript
from agent_monitor.pipeline.health_meter import LegMeter, LegReading
from agent_monitor.settings import HealthSettings

#: a looser threshold while an issue is active (dB for levels, a factor for shares)
RELEASE_DB = 3.0
RELEASE_FACTOR = 0.25
#: ``unclear`` clears once the mean word confidence is this much above ``unclear_conf`` ...
CONF_RELEASE = 0.03
#: ... and the share of wordless speech this much below ``unclear_wordless_share``
SHARE_RELEASE = 0.05


@dataclass(slots=True)
class IssueState:
    """Where one issue of one leg stands (mutable, private to :class:`CallHealth`)."""

    active: bool = False
    holding_since: float | None = None
    clear_since: float | None = None


@dataclass(slots=True)
class SpeechYield:
    """A leg's latest finals as seconds of VAD speech, and how much of it gave no word (mutable,
    private to :class:`CallHealth`)."""

    finals: deque[tuple[float, bool]] = field(default_factory=deque)
    total_s: float = 0.0
    wordless_s: float = 0.0

    def add(self, speech_s: float, wordless: bool, window_s: float) -> None:
        """Add a final's speech; keep the latest finals that hold at least ``window_s`` of it."""
        if speech_s <= 0:
            return
        self.finals.append((speech_s, wordless))
        self.total_s += speech_s
        self.wordless_s += speech_s if wordless else 0.0
        while self.finals and self.total_s - self.finals[0][0] >= window_s:
            old_s, old_wordless = self.finals.popleft()
            self.total_s -= old_s
            self.wordless_s -= old_s if old_wordless else 0.0

    def wordless_share(self) -> float:
        """(Clamped: the running sums may drift by a rounding error.)"""
        return min(1.0, max(0.0, self.wordless_s / self.total_s)) if self.total_s > 0 else 0.0


class CallHealth:
    """The signal-health monitor of one call (see the module documentation)."""

    def __init__(self, call_id: str, settings: HealthSettings, sample_rate: int, encoding: str) -> None:
        self.call_id = call_id
        self.settings = settings
        self.encoding = encoding
        self.meters = {leg: LegMeter(settings, sample_rate) for leg in (Leg.AGENT, Leg.DEBTOR)}
        self.states = {(leg, issue): IssueState() for leg in self.meters for issue in HealthIssue}
        #: Vosk's confidences of each leg's latest final words
        self.confidences = {leg: deque[float](maxlen=settings.unclear_words) for leg in self.meters}
        #: each leg's latest finals as (seconds of VAD speech, wordless), the last ``unclear_speech_s``
        self.spoken = {leg: SpeechYield() for leg in self.meters}
        #: when each leg's latest pauses after speech began (its last speech before the pause)
        self.pauses = {leg: deque[float](maxlen=max(1, settings.one_way_pauses)) for leg in self.meters}

    def active(self, leg: Leg) -> list[HealthIssue]:
        """The issues of ``leg`` active now."""
        return [issue for issue in HealthIssue if self.states[(leg, issue)].active]

    def push(self, leg: Leg, pcm: bytes, t_start: float) -> list[SignalHealth]:
        """Measure a frame of ``leg`` that starts at call time ``t_start``; the issues it starts or clears."""
        out: list[SignalHealth] = []
        for reading in self.meters[leg].push(pcm, t_start):
            out += self._judge_levels(leg, reading)
            out += self._judge_presence(reading.t)
        return out

    def idle(self, now: float) -> list[SignalHealth]:
        """No audio has arrived on either leg up to call time ``now`` (a stream that stalled with its
        connection open, or a client that never sent any): the silence and one-way issues then. A
        leg that never sent audio counts from the call's start."""
        return self._judge_presence(now)

    # --- unclear speech: judged on the recognizer's finals --------------------------------------
    def heard(self, leg: Leg, final: Transcript) -> list[SignalHealth]:
        """Take a final transcript of ``leg`` (wordless ones too); the ``unclear`` issue it starts
        or clears. Each half of the rule is undecided until the leg has ``unclear_words`` words
        (confidence) or ``unclear_speech_s`` seconds of VAD speech (wordless share)."""
        s = self.settings
        recent = self.confidences[leg]
        recent.extend(w.conf for w in final.words)
        spoken = self.spoken[leg]
        spoken.add(final.speech_s, final.wordless, s.unclear_speech_s)
        mean = sum(recent) / len(recent) if len(recent) >= s.unclear_words else None
        share = spoken.wordless_share() if spoken.total_s >= s.unclear_speech_s else None
        if (mean is None or not final.words) and (share is None or final.speech_s <= 0):
            return []
        state = self.states[(leg, HealthIssue.UNCLEAR)]
        on = state.active
        if not on and self.states[(leg, HealthIssue.ENCODING_MISMATCH)].active:
            return []  # mis-encoded audio is noise to the recognizer: that issue says why already
        unsure = mean is not None and mean < s.unclear_conf + (CONF_RELEASE if on else 0.0)
        deaf = share is not None and share >= s.unclear_wordless_share - (SHARE_RELEASE if on else 0.0)
        if (unsure or deaf) == on:
            return []
        state.active = not on
        figures = {
            "words": float(len(recent)),
            "speech_s": spoken.total_s,
            "unsure": float(unsure),
            "deaf": float(deaf),
        }
        if mean is not None:
            figures["word_conf"] = mean
        if share is not None:
            figures["wordless_share"] = share
        return [self._event(leg, HealthIssue.UNCLEAR, state.active, final.end, None, figures)]

    # --- level issues: judged on the leg's own readings ------------------------------------------
    def _judge_levels(self, leg: Leg, r: LegReading) -> list[SignalHealth]:
        s = self.settings
        out: list[SignalHealth] = []

        def on(issue: HealthIssue) -> bool:
            return self.states[(leg, issue)].active

        # mis-encoded: enough white-like loud audio in the window, and clearly more than speech-like;
        # undecided while the leg carries too little loud audio to tell
        mismatch: bool | None = None
        if r.white_s + r.tonal_s >= s.mismatch_s / 2:
            mismatch = r.white_s >= s.mismatch_s * (0.5 if on(HealthIssue.ENCODING_MISMATCH) else 1.0) and (
                r.white_s >= 2 * r.tonal_s
            )
        out += self._step(leg, HealthIssue.ENCODING_MISMATCH, mismatch, r, 0.0, s.clear_s)
        # level figures of white-like audio mean nothing: judge them only without any
        judged = r.white_s == 0 and not on(HealthIssue.ENCODING_MISMATCH)
        # speech: enough active frames, and varying in level as speech does (steady line hiss above
        # a digitally silent floor does not count)
        speech = (
            r.speech_dbfs
            if r.speech_dbfs is not None
            and r.speech_s >= s.min_speech_s
            and r.speech_spread_db >= s.speech_modulation_db
            else None
        )
        clip_limit = s.clipping_share * (RELEASE_FACTOR if on(HealthIssue.CLIPPING) else 1.0)
        low_limit = s.low_level_dbfs + (RELEASE_DB if on(HealthIssue.LOW_LEVEL) else 0.0)
        noisy_limit = s.noisy_snr_db + (RELEASE_DB if on(HealthIssue.NOISY) else 0.0)
        # without enough speech in the window (or while white-like audio is there) these stay as they
        # are (undecided: None)
        undecided = speech is None or not judged
        conditions = {
            HealthIssue.CLIPPING: None if undecided else r.clip_share > clip_limit,
            HealthIssue.LOW_LEVEL: None if undecided or speech is None else speech < low_limit,
            HealthIssue.NOISY: self._noisy(r, speech, noisy_limit, on(HealthIssue.NOISY)) if judged else None,
        }
        for issue, holds in conditions.items():
            out += self._step(leg, issue, holds, r, s.onset_s, s.clear_s)
        return out

    def _noisy(self, r: LegReading, speech: float | None, limit: float, active: bool) -> bool | None:
        """Noise close to the speech: a loud floor with speech less than ``limit`` above it (or none
        to be found in it), or, with a quieter floor, speech peaks less than ``limit`` above it."""
        floor = self.settings.noisy_floor_dbfs - (RELEASE_DB if active else 0.0)
        if r.noise_dbfs >= floor:
            return speech is None or speech - r.noise_dbfs < limit
        if speech is None:
            return None
        return r.peak_spread_db < limit

    def _step(
        self, leg: Leg, issue: HealthIssue, holds: bool | None, r: LegReading, onset: float, clear: float
    ) -> list[SignalHealth]:
        st = self.states[(leg, issue)]
        if holds is None:  # undecided: the onset starts again, an active issue stays
            st.holding_since = None
            return []
        if holds:
            st.clear_since = None
            if st.holding_since is None:
                st.holding_since = r.t
            if not st.active and r.t - st.holding_since >= onset:
                st.active = True
                return [self._event(leg, issue, True, r.t, r)]
            return []
        st.holding_since = None
        if st.active:
            if st.clear_since is None:
                st.clear_since = r.t
            if r.t - st.clear_since >= clear:
                st.active = False
                return [self._event(leg, issue, False, r.t, r)]
        return []

    # --- presence: silence and one-way audio, judged for every leg on the call's clock -----------
    def _judge_presence(self, now: float) -> list[SignalHealth]:
        s = self.settings
        out: list[SignalHealth] = []
        # a leg that has sent nothing yet counts from when the first leg started
        start = min((m.started_at for m in self.meters.values() if m.started), default=0.0)
        self._note_pauses()
        for leg, meter in self.meters.items():
            last_speech = meter.last_speech_t if meter.started else start
            last_signal = meter.last_signal_t if meter.started else start
            quiet_for = now - last_speech
            out += self._flip(leg, HealthIssue.SILENT, quiet_for >= s.silent_s, now, "silent_s", quiet_for)
            dead_for = now - last_signal
            other_leg = Leg.DEBTOR if leg is Leg.AGENT else Leg.AGENT
            other = self.meters[other_leg]
            other_spoke = other.started and other.last_speech_t > max(last_signal, now - s.one_way_s)
            waited = sum(1 for p in self.pauses[other_leg] if p > last_signal) >= s.one_way_pauses
            one_way = dead_for >= s.one_way_s and other_spoke and waited
            if self.states[(leg, HealthIssue.ONE_WAY)].active:
                one_way = dead_for > 0.5  # clears as soon as the leg carries anything again
            out += self._flip(leg, HealthIssue.ONE_WAY, one_way, now, "dead_s", dead_for)
        return out

    def _note_pauses(self) -> None:
        """Note each leg's pause after speech once it has lasted ``one_way_pause_s`` on the leg's own
        clock (how far its audio has come: a leg whose audio arrives in bigger pieces than the other's
        must not seem to pause while its next piece is on the way)."""
        for leg, meter in self.meters.items():
            spoke = meter.started and meter.last_speech_t > meter.started_at
            pauses = self.pauses[leg]
            paused = spoke and meter.t - meter.last_speech_t >= self.settings.one_way_pause_s
            if paused and (not pauses or pauses[-1] != meter.last_speech_t):
                pauses.append(meter.last_speech_t)

    def _flip(
        self, leg: Leg, issue: HealthIssue, holds: bool, t: float, key: str, lasted: float
    ) -> list[SignalHealth]:
        """Start or clear an issue whose condition is a duration (``lasted`` so far, under ``key``);
        on clearing, the figure is how long the whole episode lasted."""
        st = self.states[(leg, issue)]
        if holds == st.active:
            return []
        st.active = holds
        if holds:
            st.holding_since = t - lasted
        else:
            lasted = t - (st.holding_since if st.holding_since is not None else t)
        return [self._event(leg, issue, holds, t, None, {key: lasted})]

    # --- events ---------------------------------------------------------------------------------
    def _event(
        self,
        leg: Leg,
        issue: HealthIssue,
        active: bool,
        t: float,
        r: LegReading | None,
        figures: dict[str, float] | None = None,
    ) -> SignalHealth:
        figures = dict(figures or {})
        if r is not None:
            figures.update(
                noise_dbfs=r.noise_dbfs,
                peak_spread_db=r.peak_spread_db,
                clip_share=r.clip_share,
                white_s=r.white_s,
                speech_s=r.speech_s,
            )
            if r.speech_dbfs is not None:
                figures["speech_dbfs"] = round(r.speech_dbfs, 1)
        figures = {k: round(v, 4) for k, v in figures.items()}
        message = describe(leg, issue, active, figures, self.encoding)
        return SignalHealth(call_id=self.call_id, t=t, health=LegHealth(leg, issue, active, message, figures))


#: the sentences people see, for an issue starting and clearing (filled from the figures)
MESSAGES: dict[HealthIssue, tuple[str, str]] = {
    HealthIssue.SILENT: (
        "{leg} leg silent for {silent_s:.0f} s",
        "{leg} leg audible again after {silent_s:.0f} s",
    ),
    HealthIssue.ONE_WAY: (
        "one-way audio: {leg} leg carries nothing for {dead_s:.0f} s while the {other} speaks",
        "{leg} leg carries audio again after {dead_s:.0f} s",
    ),
    HealthIssue.LOW_LEVEL: (
        "{leg} leg very quiet (speech at {speech_dbfs:.0f} dBFS)",
        "{leg} leg level normal again",
    ),
    HealthIssue.NOISY: (
        "{leg} leg noisy (noise at {noise_dbfs:.0f} dBFS, speech peaks {peak_spread_db:.0f} dB above it)",
        "{leg} leg noise normal again",
    ),
    HealthIssue.CLIPPING: (
        "{leg} leg clipping ({clip_pct:.1f}% of samples at full scale)",
        "{leg} leg no longer clipping",
    ),
    HealthIssue.ENCODING_MISMATCH: (
        "{leg} leg sounds like white noise: the audio is probably not {encoding} as declared",
        "{leg} leg audio no longer looks mis-encoded",
    ),
    HealthIssue.NO_MODEL: ("{leg} leg not transcribed: no speech model", "{leg} leg transcribed again"),
    HealthIssue.UNCLEAR: (
        "{leg} leg hard to make out: {why}; rules may miss what is said",
        "{leg} leg recognised clearly again ({why})",
    ),
}


def _unclear_why(active: bool, figures: dict[str, float]) -> str:
    """What ``unclear`` was judged on: the words' confidence and/or the speech with no word."""
    parts = []
    if "word_conf" in figures and (figures.get("unsure") or not active):
        conf = figures["word_conf"]
        parts.append(
            f"the recognizer is unsure of its words (mean confidence {conf:.2f} over the last "
            f"{figures['words']:.0f})"
            if active
            else f"mean word confidence {conf:.2f}"
        )
    if "wordless_share" in figures and (figures.get("deaf") or not active):
        pct = 100 * figures["wordless_share"]
        parts.append(
            f"no word made of {pct:.0f}% of its last {figures['speech_s']:.0f} s of speech"
            if active
            else f"no word in {pct:.0f}% of its speech"
        )
    return "; ".join(parts)


def describe(leg: Leg, issue: HealthIssue, active: bool, figures: dict[str, float], encoding: str) -> str:
    """The sentence people see for an issue starting (``active``) or clearing."""
    values: defaultdict[str, object] = defaultdict(float, figures)
    values.update(
        leg=leg.value,
        other="debtor" if leg is Leg.AGENT else "agent",
        encoding=encoding,
        clip_pct=100.0 * figures.get("clip_share", 0.0),
    )
    if issue is HealthIssue.UNCLEAR:
        values["why"] = _unclear_why(active, figures)
    return MESSAGES[issue][0 if active else 1].format_map(values)
