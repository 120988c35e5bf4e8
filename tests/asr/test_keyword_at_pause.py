"""The keyword second pass at a VAD end of speech: a key term the first pass misses is delivered
when the speaker stops, not after the settle delay. Real Vosk model, real webrtcvad, SYNTHETIC
speech (espeak-ng), fed in 0.1 s pieces as a live leg is."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from agent_monitor.ingest.call_audio import synthetic_speech
from agent_monitor.model.audio import Leg, SpeechSegment
from agent_monitor.model.transcript import Transcript
from agent_monitor.settings import Settings
from asr.streaming import LegTranscriber, RecognizerPool

RATE = 16000
TERMS = ("damn", "crap", "idiot", "hell")
#: espeak-ng's "en" voice: the small model hears "pay your bills" (measured)
SAID, VOICE, TERM = "pay your damn bills", "en", "damn"


def _settings(
    base: Settings, *, second_pass: bool, at_pause: bool, below_conf: float | None = None
) -> Settings:
    update: dict[str, bool | float] = {
        "keyword_second_pass": second_pass,
        "keyword_second_pass_at_pause": at_pause,
    }
    if below_conf is not None:
        update["keyword_second_pass_below_conf"] = below_conf
    asr = base.asr.model_copy(update=update)
    return base.model_copy(update={"asr": asr})


def _feed(
    pool: RecognizerPool, settings: Settings
) -> tuple[list[tuple[float, Transcript]], SpeechSegment, LegTranscriber]:
    """Every transcript with the call time at which it came out (how much audio had been fed)."""
    segments: list[SpeechSegment] = []
    lt = LegTranscriber(pool, settings, Leg.AGENT, keywords=TERMS, on_segment=segments.append)
    clip = synthetic_speech(SAID, RATE, voice=VOICE)
    pcm = np.concatenate([clip, np.zeros(3 * RATE, dtype=np.int16)]).tobytes()
    step = RATE // 10 * 2

    async def run() -> list[tuple[float, Transcript]]:
        out = []
        for i in range(0, len(pcm), step):
            out += [(lt.vad.time, t) for t in await lt.feed(pcm[i : i + step])]
        return out + [(lt.vad.time, t) for t in await lt.close()]

    timed = asyncio.run(run())
    assert len(segments) == 1, segments
    return timed, segments[0], lt


def _first_with_term(timed: list[tuple[float, Transcript]]) -> tuple[float, Transcript]:
    found = [(at, t) for at, t in timed if TERM in t.text.split()]
    assert found, [t.text for _, t in timed]
    return found[0]


@pytest.fixture(scope="module")
def first_pass_only(keyword_pool: RecognizerPool, base_settings: Settings) -> list[tuple[float, Transcript]]:
    return _feed(keyword_pool, _settings(base_settings, second_pass=False, at_pause=False))[0]


def test_the_first_pass_alone_misses_the_term(first_pass_only: list[tuple[float, Transcript]]) -> None:
    assert first_pass_only, "nothing recognised"
    assert all(TERM not in t.text.split() for _, t in first_pass_only), [t.text for _, t in first_pass_only]


def test_the_term_arrives_at_the_end_of_speech_with_its_time(
    keyword_pool: RecognizerPool, base_settings: Settings
) -> None:
    timed, segment, lt = _feed(keyword_pool, _settings(base_settings, second_pass=True, at_pause=True))
    at, carrier = _first_with_term(timed)
    settle = base_settings.asr.final_after_silence_s
    assert not carrier.final  # the partial at the end of speech, not the settled final
    assert at < segment.end + settle - 0.5, (at, segment.end)
    word = next(w for w in carrier.words if w.text == TERM)
    assert segment.start < word.start < word.end <= segment.end  # the word's own time on the call clock
    final = next(t for _, t in timed if t.final)
    assert TERM in final.text.split() and any(w.text == TERM for w in final.words)
    rescorer = lt.recognizer.rescorer
    assert rescorer is not None and (rescorer.passes, rescorer.reused) == (1, 1)  # no second decode


def test_at_the_final_only_the_term_waits_for_the_settle(
    keyword_pool: RecognizerPool, base_settings: Settings
) -> None:
    timed, segment, _ = _feed(keyword_pool, _settings(base_settings, second_pass=True, at_pause=False))
    at, carrier = _first_with_term(timed)
    assert carrier.final and at >= segment.end + base_settings.asr.final_after_silence_s


def test_a_final_the_first_pass_is_sure_of_is_not_decoded_again(
    keyword_pool: RecognizerPool, base_settings: Settings
) -> None:
    """With the gate at 0 no word is unsure enough: the final is left as the first pass heard it."""
    timed, _, lt = _feed(
        keyword_pool, _settings(base_settings, second_pass=True, at_pause=False, below_conf=0.0)
    )
    rescorer = lt.recognizer.rescorer
    assert rescorer is not None and rescorer.passes == 0 and rescorer.skipped == 1
    assert not any(TERM in t.text.split() for _, t in timed)
