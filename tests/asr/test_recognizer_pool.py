"""Spare Vosk recognizers: built off the event loop, reset and reused between legs (real model)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from agent_monitor.audio.decode import decode_file, split_legs
from agent_monitor.errors import RecognizerError
from agent_monitor.model.audio import Leg
from agent_monitor.model.transcript import Transcript
from agent_monitor.settings import Settings
from asr.recognizer import SpareRecognizer
from asr.streaming import LegTranscriber, RecognizerPool

RATE = 16000


def _speech(path: Path) -> bytes:
    return split_legs(decode_file(path, target_rate=RATE), None, "left")[Leg.AGENT]


async def _transcribe(
    pool: RecognizerPool, settings: Settings, pcm: bytes, spare: SpareRecognizer
) -> list[Transcript]:
    lt = LegTranscriber(pool, settings, Leg.AGENT, partials=False, spare=spare)
    out: list[Transcript] = []
    step = RATE // 5 * 2
    for i in range(0, len(pcm), step):
        out += await lt.feed(pcm[i : i + step])
    out += await lt.close()
    await lt.release()
    return [t for t in out if t.final]


def test_recognizers_are_built_in_a_worker_thread(pool: RecognizerPool) -> None:
    spares = RecognizerPool(pool.model, workers=1, max_spares=2)
    built_on: list[str] = []
    real = spares._new_recognizer

    def spy() -> Any:
        built_on.append(threading.current_thread().name)
        return real()

    spares._new_recognizer = spy  # type: ignore[method-assign]

    async def run() -> tuple[str, SpareRecognizer]:
        return threading.current_thread().name, await spares.take_recognizer()

    try:
        loop_thread, rec = asyncio.run(run())
    finally:
        spares.close()
    assert rec.kaldi is not None and rec.fed == 0 and spares.created == 1
    assert built_on and built_on[0] != loop_thread and built_on[0].startswith("vosk")


def test_a_recycled_recognizer_starts_clean(
    pool: RecognizerPool, base_settings: Settings, librispeech_flac: Path
) -> None:
    """A recognizer given back in the middle of an utterance is reset: the next leg on it hears
    only its own speech, with its own clock, and transcribes it like a new recognizer."""
    spares = RecognizerPool(pool.model, max_spares=2)
    speech = _speech(librispeech_flac)  # "he hoped there would be stew for dinner turnips and ..."
    half = len(speech) // 2 // 2 * 2
    first_half, second_half = speech[:half], speech[half:]

    async def run() -> tuple[bool, list[Transcript], list[Transcript]]:
        used = await spares.take_recognizer()
        used.kaldi.AcceptWaveform(first_half)  # an utterance left open
        await spares.give_back(SpareRecognizer(used.kaldi, len(first_half) // 2))
        again = await spares.take_recognizer()
        recycled = await _transcribe(spares, base_settings, second_half, again)
        fresh = await _transcribe(spares, base_settings, second_half, spares._new_recognizer())
        return again.kaldi is used.kaldi, recycled, fresh

    try:
        reused, recycled, fresh = asyncio.run(run())
    finally:
        spares.close()
    assert reused
    words = [w.text for t in recycled for w in t.words]
    fresh_words = [w.text for t in fresh for w in t.words]
    assert words and not {"hoped", "stew", "dinner"} & set(words), words
    # the reused recognizer's clock was carried over: its word times are the new recognizer's
    fresh_at = [(w.text, w.start) for t in fresh for w in t.words]
    on_time = [
        w
        for t in recycled
        for w in t.words
        if any(text == w.text and abs(start - w.start) < 0.15 for text, start in fresh_at)
    ]
    assert len(on_time) >= 0.8 * len(words), (recycled, fresh)
    assert all(
        0.0 <= w.start <= w.end <= len(second_half) / 2 / RATE + 0.05 for t in recycled for w in t.words
    )
    common = sum(min(words.count(x), fresh_words.count(x)) for x in set(words))
    assert common >= 0.8 * len(fresh_words), (words, fresh_words)


def test_spares_are_capped_and_prewarmed(pool: RecognizerPool) -> None:
    spares = RecognizerPool(pool.model, max_spares=2)

    async def run() -> None:
        await spares.prewarm()
        assert spares.spares == 2 and spares.created == 2
        a, b, c = [await spares.take_recognizer() for _ in range(3)]
        assert spares.created == 3 and len({id(a.kaldi), id(b.kaldi), id(c.kaldi)}) == 3
        for rec in (a, b, c):
            await spares.give_back(rec)
        assert spares.spares == 2  # the third is dropped, not kept

    try:
        asyncio.run(run())
    finally:
        spares.close()


def test_a_recognizer_for_another_rate_is_refused(pool: RecognizerPool, base_settings: Settings) -> None:
    spares = RecognizerPool(pool.model, sample_rate=8000, max_spares=1)
    try:
        rec = asyncio.run(spares.take_recognizer())
        with pytest.raises(RecognizerError, match="8000 Hz"):
            LegTranscriber(spares, base_settings, Leg.AGENT, spare=rec)
    finally:
        spares.close()


def test_prewarmed_spares_have_decoded_audio_before_the_first_call(
    pool: RecognizerPool, base_settings: Settings, librispeech_flac: Path
) -> None:
    """Each spare decodes ``warmup_s`` of synthetic sound at start-up; its clock counts that audio,
    so the first leg on it still gets word times on its own clock, and the same words."""
    spares = RecognizerPool(pool.model, max_spares=2, warmup_s=1.0)
    speech = _speech(librispeech_flac)

    async def run() -> tuple[list[SpareRecognizer], list[Transcript], list[Transcript]]:
        await spares.prewarm()
        warmed = list(spares._spares)
        first = await _transcribe(spares, base_settings, speech, await spares.take_recognizer())
        fresh = await _transcribe(spares, base_settings, speech, spares._new_recognizer())
        return warmed, first, fresh

    try:
        warmed, first, fresh = asyncio.run(run())
    finally:
        spares.close()
    assert spares.warmed == 2 and [s.fed for s in warmed] == [RATE, RATE]
    words = [(w.text, w.start) for t in first for w in t.words]
    fresh_words = [(w.text, w.start) for t in fresh for w in t.words]
    assert len(fresh_words) >= 20
    same = [w for w in words if any(w[0] == f[0] and abs(w[1] - f[1]) < 0.15 for f in fresh_words)]
    assert len(same) >= 0.8 * len(fresh_words), (words, fresh_words)
