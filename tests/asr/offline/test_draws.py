"""Seeded dither draws (asr/offline/draws.py): the same seed gives the same decode, on plain Vosk
and through the pipeline, so the evaluation's draws (and the plain-Vosk cache) are repeatable;
another seed is another draw. Real speech over the real SpokenWOZ line noise, the real model."""

from __future__ import annotations

import json
from pathlib import Path

from agent_monitor.audio.conditions import CONDITIONS
from agent_monitor.audio.decode import decode_file
from agent_monitor.settings import Settings
from asr.offline.degrade import degraded_pcm, noise_bank_for
from asr.offline.draws import draw_seed, seed_dither
from asr.offline.evaluate import FolderResult, normalise, score_clip
from asr.offline.plain_cache import PlainCache
from asr.streaming import RecognizerPool

RATE = 16000


def _noisy_speech(eval_data: Path, librivox_wav: Path) -> bytes:
    samples = decode_file(librivox_wav, target_rate=RATE).samples[0][: 8 * RATE]
    noise = noise_bank_for(eval_data, librivox_wav.parent)
    return degraded_pcm(samples, RATE, CONDITIONS["line-snr10"], noise, librivox_wav.name)


def _plain_result(pool: RecognizerPool, pcm: bytes, seed: int) -> str:
    """Vosk's full final result (words with confidences) after ``seed``."""
    from vosk import KaldiRecognizer

    seed_dither(seed)
    rec = KaldiRecognizer(pool.model, RATE)
    rec.SetWords(True)
    for i in range(0, len(pcm), 8000):
        rec.AcceptWaveform(pcm[i : i + 8000])
    return str(rec.FinalResult())


def test_a_seed_fixes_the_dither_draw(pool: RecognizerPool, eval_data: Path, librivox_wav: Path) -> None:
    pcm = _noisy_speech(eval_data, librivox_wav)
    seeds = [draw_seed(librivox_wav.name, "line-snr10", k) for k in range(3)]
    assert len(set(seeds)) == 3
    first = [_plain_result(pool, pcm, s) for s in seeds]
    again = [_plain_result(pool, pcm, s) for s in reversed(seeds)][::-1]
    assert first == again
    assert len(json.loads(first[0])["result"]) >= 10, first[0]
    # the dither is real: other seeds give other confidences (or words)
    assert len(set(first)) > 1, first


def test_pipeline_and_plain_draws_repeat(
    base_settings: Settings, pool: RecognizerPool, eval_data: Path, librivox_wav: Path, tmp_path: Path
) -> None:
    pcm = _noisy_speech(eval_data, librivox_wav)
    ref = normalise("unless he could be persuaded")  # any reference: only the repeat is compared
    seeds = [draw_seed(librivox_wav.name, "line-snr10", k) for k in range(2)]
    cache = PlainCache(tmp_path, "small-en")
    runs = [FolderResult("librivox"), FolderResult("librivox"), FolderResult("librivox")]
    score_clip(pool, base_settings, pcm, ref, runs[0], seeds)
    score_clip(pool, base_settings, pcm, ref, runs[1], seeds, cache)  # fills the cache
    score_clip(pool, base_settings, pcm, ref, runs[2], seeds, cache)  # reads it
    assert cache.hits == 2
    assert len(list(tmp_path.glob("*.txt"))) == 2  # one per draw, never one for all
    for res in runs:
        assert res.pipeline.draws == res.plain.draws == 2
    assert runs[0].pipeline.clips == runs[1].pipeline.clips == runs[2].pipeline.clips
    assert runs[0].plain.clips == runs[1].plain.clips == runs[2].plain.clips
