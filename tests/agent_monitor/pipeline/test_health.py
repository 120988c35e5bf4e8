"""The signal-health monitor on real audio: the whole real stereo call MUL1011 of the shared data
(about 3 minutes, 8 kHz), as it is and made silent, quiet, clipped or mis-encoded.

Each case streams both legs in 20 ms frames through :class:`CallHealth`, as a session does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agent_monitor.audio.conditions import CONDITIONS, Condition
from agent_monitor.audio.decode import float_to_pcm16
from agent_monitor.audio.g711 import mulaw_encode
from agent_monitor.audio.noise import NoiseBank
from agent_monitor.model.audio import Leg
from agent_monitor.model.events import SignalHealth
from agent_monitor.model.health import HealthIssue
from agent_monitor.model.transcript import Transcript, Word
from agent_monitor.pipeline.health import CallHealth, describe
from agent_monitor.settings import HealthSettings

RATE = 8000
FRAME = 160  # 20 ms


def run(agent: bytes, debtor: bytes, settings: HealthSettings | None = None, **kw: str) -> list[SignalHealth]:
    """Both legs through the monitor in 20 ms frames (``debtor`` may carry other bytes per frame)."""
    health = CallHealth("c1", settings or HealthSettings(), RATE, kw.get("encoding", "L16"))
    events: list[SignalHealth] = []
    step = FRAME * 2
    for i in range(0, max(len(agent), len(debtor)), step):
        if i < len(agent):
            events += health.push(Leg.AGENT, agent[i : i + step], i / 2 / RATE)
        if i < len(debtor):
            events += health.push(Leg.DEBTOR, debtor[i : i + step], i / 2 / RATE)
    return events


def issues(events: list[SignalHealth], leg: Leg | None = None) -> list[tuple[HealthIssue, bool]]:
    return [(e.health.issue, e.health.active) for e in events if leg is None or e.health.leg is leg]


def test_the_real_call_as_it_is_raises_nothing(legs: tuple[np.ndarray, np.ndarray]) -> None:
    agent, debtor = legs
    assert run(float_to_pcm16(agent), float_to_pcm16(debtor)) == []


def test_digital_silence_in_a_leg_does_not_make_line_hiss_quiet_speech(
    legs: tuple[np.ndarray, np.ndarray],
) -> None:
    """VoIP silence suppression: 3.5 s of digital zeros put into the debtor leg at 5 s (as a spliced
    replay does) must not make the leg's low hiss before the debtor speaks count as quiet speech."""
    agent, debtor = legs
    gap = np.zeros(int(3.5 * RATE), dtype=np.float32)
    debtor = np.concatenate([debtor[: 5 * RATE], gap, debtor[5 * RATE : 14 * RATE]])
    agent = np.concatenate([agent[: 5 * RATE], gap, agent[5 * RATE : 14 * RATE]])
    assert run(float_to_pcm16(agent), float_to_pcm16(debtor)) == []


def test_silent_leg_raises_silent_and_one_way_then_clears_when_speech_returns(
    legs: tuple[np.ndarray, np.ndarray],
) -> None:
    agent, debtor = legs
    muted = debtor.copy()
    muted[: 45 * RATE] = 0.0  # the debtor's line carries nothing for the first 45 s
    events = run(float_to_pcm16(agent), float_to_pcm16(muted))
    debtor_events = [e for e in events if e.health.leg is Leg.DEBTOR]
    assert issues(events, Leg.AGENT) == []
    got = [(e.health.issue, e.health.active) for e in debtor_events]
    assert got[:2] == [(HealthIssue.ONE_WAY, True), (HealthIssue.SILENT, True)]
    assert set(got[2:]) == {(HealthIssue.SILENT, False), (HealthIssue.ONE_WAY, False)} and len(got) == 4
    one_way, silent = debtor_events[:2]
    back = next(e for e in debtor_events[2:] if e.health.issue is HealthIssue.ONE_WAY)
    audible = next(e for e in debtor_events[2:] if e.health.issue is HealthIssue.SILENT)
    assert one_way.t == pytest.approx(15.0, abs=0.5)
    assert "while the agent speaks" in one_way.health.message
    assert silent.t == pytest.approx(30.0, abs=0.5)
    assert silent.health.message == "debtor leg silent for 30 s"
    assert 45.0 <= back.t < 50.0 and 45.0 <= audible.t < 55.0
    assert audible.health.message.startswith("debtor leg audible again after 4")
    assert all(isinstance(e, SignalHealth) and e.critical for e in events)


def test_a_leg_that_sends_nothing_at_all_is_silent(legs: tuple[np.ndarray, np.ndarray]) -> None:
    agent, _ = legs
    events = run(float_to_pcm16(agent[: 40 * RATE]), b"")
    assert issues(events) == [(HealthIssue.ONE_WAY, True), (HealthIssue.SILENT, True)]
    assert {e.health.leg for e in events} == {Leg.DEBTOR}


def _speech_only(x: np.ndarray, seconds: float, pause_s: float = 0.5) -> np.ndarray:
    """The first ``seconds`` of ``x`` with every pause cut to at most ``pause_s`` (a pause: frames
    less than 10 dB above the leg's median frame level, 0.2 s or more from the nearest louder
    one): the leg's own voice and line, talking on without waiting."""
    frames = x[: len(x) // FRAME * FRAME].reshape(-1, FRAME)
    db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    loud = db > np.median(db) + 10.0
    reach = round(0.2 * RATE / FRAME)
    near = np.convolve(loud, np.ones(2 * reach + 1), mode="same") > 0
    keep, run_len = [], 0
    for i, speech in enumerate(near):
        run_len = 0 if speech else run_len + 1
        if run_len * FRAME <= pause_s * RATE:
            keep.append(i)
    return frames[keep].reshape(-1)[: int(seconds * RATE)]


def test_a_monologue_against_a_silence_suppressed_leg_is_not_one_way(
    legs: tuple[np.ndarray, np.ndarray],
) -> None:
    """The agent talks on for 20 s (its pauses cut to 0.4 s, from about 0.4 s of quiet on either side)
    while the debtor's leg, sent with silence suppression, carries nothing; then the debtor
    answers: nobody waited, no one-way."""
    agent, debtor = legs
    talk = _speech_only(agent, 20.0, pause_s=0.4)
    answer = _speech_only(debtor, 5.0)
    agent_pcm = float_to_pcm16(np.concatenate([talk, np.zeros_like(answer)]))
    debtor_pcm = float_to_pcm16(np.concatenate([np.zeros_like(talk), answer]))
    assert issues(run(agent_pcm, debtor_pcm)) == []
    # the same when the debtor's audio arrives in 2 s pieces ahead of the agent's: the agent's speech
    # is not taken for pauses while its next piece is on the way
    health, step, ahead = CallHealth("c2", HealthSettings(), RATE, "L16"), 2 * RATE * 2, []
    for i in range(0, len(agent_pcm), step):
        ahead += health.push(Leg.DEBTOR, debtor_pcm[i : i + step], i / 2 / RATE)
        ahead += health.push(Leg.AGENT, agent_pcm[i : i + step], i / 2 / RATE)
    assert issues(ahead) == []
    # the duration alone (the rule before the waits counted) called it one-way audio
    by_duration = run(agent_pcm, debtor_pcm, HealthSettings(one_way_pauses=0))
    assert issues(by_duration)[:1] == [(HealthIssue.ONE_WAY, True)]


def test_a_leg_dead_while_the_other_waits_for_it_twice_is_one_way(
    legs: tuple[np.ndarray, np.ndarray],
) -> None:
    """The same speech in 5 s pieces with 2 s of waiting (the agent line's own hiss) after each:
    the debtor's dead leg is one-way audio once the agent has waited twice and 15 s have passed."""
    agent, _ = legs
    hiss = agent[: 2 * RATE] * 0.0 + _quietest(agent, 2 * RATE)
    talk = _speech_only(agent, 20.0)
    pieces = [np.concatenate([talk[i : i + 5 * RATE], hiss]) for i in range(0, len(talk), 5 * RATE)]
    waiting = np.concatenate(pieces)
    events = run(float_to_pcm16(waiting), bytes(2 * len(waiting)))
    one_way = [e for e in events if e.health.issue is HealthIssue.ONE_WAY]
    assert [(e.health.leg, e.health.active) for e in one_way] == [(Leg.DEBTOR, True)]
    # the agent has waited twice (from 5 s and from 12 s) by the time the leg has been dead 15 s
    assert one_way[0].t == pytest.approx(15.0, abs=0.5)


def _quietest(x: np.ndarray, n: int) -> np.ndarray:
    """The quietest ``n`` samples of ``x`` in one piece (the leg's line noise between turns)."""
    step = n // 4
    starts = range(0, len(x) - n, step)
    best = min(starts, key=lambda i: float(np.mean(x[i : i + n] ** 2)))
    return x[best : best + n]


def test_silence_threshold_comes_from_the_settings(legs: tuple[np.ndarray, np.ndarray]) -> None:
    agent, _ = legs
    settings = HealthSettings(silent_s=10.0, one_way_s=100.0)
    events = run(float_to_pcm16(agent[: 20 * RATE]), bytes(20 * RATE * 2), settings)
    assert issues(events) == [(HealthIssue.SILENT, True)]
    assert events[0].t == pytest.approx(10.0, abs=0.3)
    assert events[0].health.figures["silent_s"] == pytest.approx(10.0, abs=0.3)


def test_mulaw_bytes_declared_as_l16_raise_encoding_mismatch_only(
    legs: tuple[np.ndarray, np.ndarray],
) -> None:
    agent, debtor = legs
    # a sender that sends G.711 mu-law bytes but declared L16: two mu-law bytes read as one sample
    mulaw = mulaw_encode(np.frombuffer(float_to_pcm16(debtor), dtype="<i2"))
    events = run(float_to_pcm16(agent[: len(mulaw) // 2]), mulaw)
    assert issues(events) == [(HealthIssue.ENCODING_MISMATCH, True)]
    event = events[0]
    assert event.health.leg is Leg.DEBTOR and event.t < 10.0
    assert (
        event.health.message
        == "debtor leg sounds like white noise: the audio is probably not L16 as declared"
    )
    assert event.health.figures["white_s"] >= 2.0


def test_clipped_leg_raises_clipping(legs: tuple[np.ndarray, np.ndarray]) -> None:
    agent, debtor = legs
    clipped = np.clip(
        agent * np.float32(4.0), -1.0, 1.0
    )  # 12 dB too hot: the loud passages pinned at full scale
    events = run(float_to_pcm16(clipped), float_to_pcm16(debtor))
    got = issues(events)
    assert got[0] == (HealthIssue.CLIPPING, True)
    assert {i for i, _ in got} == {HealthIssue.CLIPPING}
    assert {e.health.leg for e in events} == {Leg.AGENT}
    assert events[0].health.message.startswith("agent leg clipping (")
    # hysteresis: starts and clears alternate, a handful per 3 minutes, never a storm
    assert [a for _, a in got] == [True, False] * (len(got) // 2) + [True] * (len(got) % 2)
    assert len(got) <= 6


def test_quiet_speech_40_db_down_raises_low_level(legs: tuple[np.ndarray, np.ndarray]) -> None:
    agent, debtor = legs
    quiet, _ = CONDITIONS["gain-40"].apply(debtor, RATE)
    events = run(float_to_pcm16(agent), float_to_pcm16(quiet))
    assert issues(events) == [(HealthIssue.LOW_LEVEL, True)]
    assert events[0].health.leg is Leg.DEBTOR
    assert events[0].health.figures["speech_dbfs"] < -50.0
    assert events[0].health.message.startswith("debtor leg very quiet (speech at -")


def test_messages_for_every_issue() -> None:
    for issue in HealthIssue:
        for active in (True, False):
            text = describe(Leg.AGENT, issue, active, {}, "L16")
            assert text.startswith("agent leg") or text.startswith("one-way audio: agent leg"), text
    assert (
        describe(Leg.DEBTOR, HealthIssue.SILENT, True, {"silent_s": 45.2}, "L16")
        == "debtor leg silent for 45 s"
    )


def test_babble_at_the_speech_level_raises_noisy(
    legs: tuple[np.ndarray, np.ndarray], eval_data: Path
) -> None:
    agent, debtor = legs
    babble = Condition("babble-snr0", noise="babble", snr_db=0.0)  # real speech of others, 0 dB SNR
    noisy, _ = babble.apply(debtor, RATE, noise=NoiseBank.from_data_dir(eval_data), seed=1)
    events = run(float_to_pcm16(agent), float_to_pcm16(noisy))
    assert issues(events) == [(HealthIssue.NOISY, True)]
    assert events[0].health.leg is Leg.DEBTOR and events[0].t < 15.0
    assert events[0].health.figures["noise_dbfs"] >= -33.0
    assert events[0].health.message.startswith("debtor leg noisy (noise at -")


def _final(*confs: float, t: float = 0.0, speech_s: float = 0.0, leg: Leg = Leg.DEBTOR) -> Transcript:
    """A final with one word per confidence (none: a wordless final) ending at call time ``t``."""
    words = tuple(Word(text="w", start=float(i), end=i + 0.3, conf=c) for i, c in enumerate(confs))
    return Transcript(leg, 0, 0.0, t, " ".join("w" for _ in words), True, words, speech_s=speech_s)


def test_unclear_follows_the_mean_confidence_of_the_last_words_with_hysteresis() -> None:
    """The rule itself, on confidences as Vosk gives them (the session test in
    ``test_session_health.py`` runs it on the real call under babble)."""
    settings = HealthSettings(unclear_words=10, unclear_conf=0.78)
    health = CallHealth("c1", settings, RATE, "L16")
    assert health.heard(Leg.DEBTOR, _final(*[0.5] * 9, t=5.0)) == []  # 9 words: undecided
    (start,) = health.heard(Leg.DEBTOR, _final(0.6, t=6.0))  # mean 0.48 over 10
    assert (start.t, start.health.leg, start.health.issue, start.health.active) == (
        6.0,
        Leg.DEBTOR,
        HealthIssue.UNCLEAR,
        True,
    )
    assert start.health.figures == {
        "word_conf": 0.51,
        "words": 10.0,
        "speech_s": 0.0,
        "unsure": 1.0,
        "deaf": 0.0,
    }
    assert start.health.message == (
        "debtor leg hard to make out: the recognizer is unsure of its words (mean confidence 0.51 "
        "over the last 10); rules may miss what is said"
    )
    agent = health.heard(Leg.AGENT, _final(*[0.5] * 10, t=6.0, leg=Leg.AGENT))
    assert agent[0].health.leg is Leg.AGENT  # legs apart
    assert health.heard(Leg.DEBTOR, _final(*[0.8] * 10, t=9.0)) == []  # 0.80: not 0.03 above yet
    assert health.heard(Leg.DEBTOR, _final(t=9.5)) == []  # no words: nothing judged
    (clear,) = health.heard(Leg.DEBTOR, _final(*[0.81] * 10, t=12.0))
    assert not clear.health.active and clear.health.message == (
        "debtor leg recognised clearly again (mean word confidence 0.81)"
    )
    assert health.heard(Leg.DEBTOR, _final(0.79, t=13.0)) == []  # above the start threshold
    assert [e.health.active for e in health.heard(Leg.DEBTOR, _final(*[0.7] * 5, t=14.0))] == [True]


def test_unclear_counts_the_speech_that_gave_no_word_with_hysteresis() -> None:
    """Deleted words show in no confidence: sure words with most of the speech wordless is
    ``unclear`` too, once the leg has ``unclear_speech_s`` of speech; undecided before."""
    settings = HealthSettings(unclear_words=50, unclear_speech_s=10.0, unclear_wordless_share=0.4)
    health = CallHealth("c1", settings, RATE, "L16")
    assert health.heard(Leg.DEBTOR, _final(*[0.95] * 5, t=3.0, speech_s=3.0)) == []
    assert health.heard(Leg.DEBTOR, _final(t=6.0, speech_s=3.0)) == []  # 6 s of speech: undecided
    (start,) = health.heard(Leg.DEBTOR, _final(t=10.0, speech_s=4.0))  # 7 of 10 s wordless
    assert start.health.active and start.t == 10.0
    assert start.health.figures == {
        "words": 5.0,
        "speech_s": 10.0,
        "unsure": 0.0,
        "deaf": 1.0,
        "wordless_share": 0.7,
    }
    assert start.health.message == (
        "debtor leg hard to make out: no word made of 70% of its last 10 s of speech; rules may miss "
        "what is said"
    )
    # the window keeps the latest finals that hold 10 s: the first 3 s of words drop out
    assert health.heard(Leg.DEBTOR, _final(*[0.9] * 3, t=12.0, speech_s=3.0)) == []  # 7/10 wordless
    assert health.heard(Leg.DEBTOR, _final(*[0.9] * 3, t=14.0, speech_s=4.0)) == []  # 4/11: not 0.35 yet
    (clear,) = health.heard(Leg.DEBTOR, _final(*[0.9] * 2, t=15.0, speech_s=1.0))  # 4/12
    assert not clear.health.active
    assert clear.health.message == "debtor leg recognised clearly again (no word in 33% of its speech)"
    assert health.heard(Leg.AGENT, _final(t=20.0, speech_s=30.0, leg=Leg.AGENT))[
        0
    ].health.active  # legs apart


def test_unclear_says_both_reasons_when_both_hold() -> None:
    settings = HealthSettings(unclear_words=5, unclear_speech_s=4.0, unclear_wordless_share=0.4)
    health = CallHealth("c1", settings, RATE, "L16")
    assert health.heard(Leg.DEBTOR, _final(t=3.0, speech_s=3.0)) == []  # 3 s, no words: undecided
    (start,) = health.heard(Leg.DEBTOR, _final(*[0.5] * 5, t=5.0, speech_s=2.0))
    assert start.health.message == (
        "debtor leg hard to make out: the recognizer is unsure of its words (mean confidence 0.50 "
        "over the last 5); no word made of 60% of its last 5 s of speech; rules may miss what is said"
    )
