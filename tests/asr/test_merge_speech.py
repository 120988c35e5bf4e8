"""Contiguous VAD speech is handed to Vosk as one piece per batch, with the same words."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

from agent_monitor.audio.decode import decode_file, float_to_pcm16
from agent_monitor.model.audio import Leg, SpeechSegment
from agent_monitor.model.transcript import Transcript
from agent_monitor.settings import DecoderSettings, Settings
from asr.streaming import LegTranscriber, RecognizerPool
from asr.vad import SpeechAudio, SpeechEnded, VadOutput, VadSegmenter, merge_speech

RATE = 16000
BATCH = RATE // 10 * 2  # 0.1 s of 16-bit audio: the live path's smallest batch


def _speech_pcm(path: Path) -> bytes:
    return float_to_pcm16(decode_file(path, target_rate=RATE).samples[0])


def _vad_batches(settings: Settings, pcm: bytes) -> list[list[VadOutput]]:
    vad = VadSegmenter(settings.vad, RATE, Leg.AGENT)
    batches = [vad.push(pcm[i : i + BATCH]) for i in range(0, len(pcm), BATCH)]
    return [*batches, vad.flush()]


def test_contiguous_frames_join_and_everything_else_stays(base_settings: Settings, call_opus: Path) -> None:
    """On a real call leg: the same audio in the same order, ends of speech where they were, far
    fewer pieces, and no two neighbouring pieces that could have been one."""
    pcm = float_to_pcm16(decode_file(call_opus, target_rate=RATE).samples[0][: RATE * 30])
    before = after = 0
    for batch in _vad_batches(base_settings, pcm):
        merged = merge_speech(batch, RATE)
        before += sum(isinstance(o, SpeechAudio) for o in batch)
        after += sum(isinstance(o, SpeechAudio) for o in merged)
        assert [o for o in merged if isinstance(o, SpeechEnded)] == [
            o for o in batch if isinstance(o, SpeechEnded)
        ]
        assert b"".join(o.pcm for o in merged if isinstance(o, SpeechAudio)) == b"".join(
            o.pcm for o in batch if isinstance(o, SpeechAudio)
        )
        for a, b in itertools.pairwise(merged):
            if isinstance(a, SpeechAudio) and isinstance(b, SpeechAudio):
                assert abs(a.start + len(a.pcm) / 2 / RATE - b.start) > 1e-6
    assert before > 0 and after * 3 < before, (before, after)


def test_pieces_apart_in_time_or_across_an_end_stay_apart() -> None:
    frame = b"\x01\x00" * 320  # 20 ms
    a, b, gap = SpeechAudio(1.0, frame), SpeechAudio(1.02, frame), SpeechAudio(1.5, frame)
    end = SpeechEnded(SpeechSegment(leg=Leg.AGENT, start=1.0, end=1.52, pcm=frame, sample_rate=RATE), False)
    merged = merge_speech([a, b, gap, end, SpeechAudio(1.52, frame), SpeechAudio(1.54, frame)], RATE)
    assert merged == [SpeechAudio(1.0, frame + frame), gap, end, SpeechAudio(1.52, frame + frame)]
    assert merge_speech([], RATE) == []


def _transcribe(pool: RecognizerPool, settings: Settings, batches: list[list[VadOutput]]) -> list[Transcript]:
    """Runs the transcriber's own recognition step on given VAD outputs (merged or not)."""
    lt = LegTranscriber(pool, settings, Leg.AGENT)
    out: list[Transcript] = []
    for i, batch in enumerate(batches):
        out += lt._recognize(batch, closing=i == len(batches) - 1)[0]
    return out


def test_the_same_words_whole_or_frame_by_frame(base_settings: Settings, librispeech_flac: Path) -> None:
    """With Kaldi's dither off (else every run draws other noise), the recognizer gives the same
    final words and word times for the frame-by-frame pieces and for the merged ones."""
    settings = base_settings.model_copy(
        update={"asr": base_settings.asr.model_copy(update={"decoder": {"en": DecoderSettings(dither=0.0)}})}
    )
    pool = RecognizerPool.from_settings(settings)
    try:
        batches = _vad_batches(settings, _speech_pcm(librispeech_flac))
        frame_by_frame = _transcribe(pool, settings, batches)
        merged = _transcribe(pool, settings, [merge_speech(b, RATE) for b in batches])
        words = asyncio.run(_feed(pool, settings, _speech_pcm(librispeech_flac)))
    finally:
        pool.close()
    finals = [t for t in frame_by_frame if t.final]
    assert finals and sum(len(t.words) for t in finals) >= 20
    # word confidences move in the third decimal (Vosk updates its i-vector weighting per call)
    timed = [[(w.text, w.start, w.end) for w in t.words] for t in finals]
    assert timed == [[(w.text, w.start, w.end) for w in t.words] for t in merged if t.final]
    confs = [w.conf for t in finals for w in t.words]
    assert (
        max(
            abs(a - b.conf)
            for a, b in zip(confs, [w for t in merged if t.final for w in t.words], strict=True)
        )
        < 0.02
    )
    assert words == [w.text for t in finals for w in t.words]


async def _feed(pool: RecognizerPool, settings: Settings, pcm: bytes) -> list[str]:
    """The live entry point (``feed``/``close``, which merge) gives the same words too."""
    lt = LegTranscriber(pool, settings, Leg.AGENT)
    out: list[Transcript] = []
    for i in range(0, len(pcm), BATCH):
        out += await lt.feed(pcm[i : i + BATCH])
    out += await lt.close()
    return [w.text for t in out if t.final for w in t.words]
