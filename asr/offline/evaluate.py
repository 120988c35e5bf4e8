"""ASR evaluation: word error rate of the VAD-gated pipeline beside plain whole-file Vosk.

Both are run with the same model in the same process, so the cost or gain of VAD gating and
segmentation is visible. Text is normalised (case, punctuation) before scoring; Chinese is scored
per character (CER).
"""

from __future__ import annotations

import asyncio
import csv
import json
import re
import time
import unicodedata
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from agent_monitor.audio.conditions import CONDITIONS, Condition, needs_noise
from agent_monitor.audio.decode import FloatArray, decode_file, float_to_pcm16
from agent_monitor.errors import AgentMonitorError, DatasetError
from agent_monitor.event_loops import Runner
from agent_monitor.model.audio import BYTES_PER_SAMPLE, Leg
from agent_monitor.model.transcript import Transcript
from agent_monitor.settings import Settings
from asr.offline.cer import zh_chars
from asr.offline.degrade import degraded_pcm, noise_bank_for
from asr.offline.draws import draw_seed, seed_dither
from asr.offline.plain_cache import PlainCache
from asr.offline.splits import SplitPart, split_parts
from asr.offline.words_log import Decode, WordsLog
from asr.streaming import RecognizerPool
from asr.transcribe import CHUNK_S, transcribe_legs
from asr.vad import VadSegmenter

_CJK = re.compile(r"[\u4e00-\u9fff]")


def normalise(text: str) -> list[str]:
    """Lower-case, drop punctuation (keeping in-word apostrophes); Chinese splits per character
    (:func:`asr.offline.cer.zh_chars`: punctuation and spaces removed, digits normalised)."""
    if _CJK.search(text):
        return zh_chars(text)
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[^\w']+", " ", text)
    return [w.strip("'") for w in text.split() if w.strip("'")]


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Levenshtein distance over tokens (substitutions + deletions + insertions)."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


@dataclass
class Score:
    """Errors of one side (pipeline or plain Vosk) over clips, each decoded ``draws`` times
    (:mod:`asr.offline.draws`); the WER is the mean over the draws."""

    #: errors summed over every clip and every draw
    errors: int = 0
    #: reference words (each clip counted once)
    ref_tokens: int = 0
    draws: int = 1
    audio_s: float = 0.0
    cpu_s: float = 0.0
    #: CPU time of the VAD alone (segmentation, level tracking, AGC) over the same audio
    vad_cpu_s: float = 0.0
    #: (errors of each draw, reference tokens) of every clip, in order (for paired intervals)
    clips: list[tuple[tuple[int, ...], int]] = field(default_factory=list)

    def add(self, ref: list[str], hyps: Sequence[list[str]]) -> None:
        """One clip: its reference and the hypothesis of each draw (as many as earlier clips)."""
        if self.clips and len(hyps) != self.draws:
            raise ValueError(f"{len(hyps)} draws of a clip, {self.draws} of the others")
        errors = tuple(edit_distance(ref, hyp) for hyp in hyps)
        self.draws = len(hyps)
        self.errors += sum(errors)
        self.ref_tokens += len(ref)
        self.clips.append((errors, len(ref)))

    @property
    def wer(self) -> float:
        return 100.0 * self.errors / max(1, self.ref_tokens * self.draws)


@dataclass
class FolderResult:
    folder: str
    condition: str = "clean"
    files: int = 0
    lang: str = "en"
    pipeline: Score = field(default_factory=Score)
    plain: Score = field(default_factory=Score)
    skipped: str = ""
    failures: list[str] = field(default_factory=list)


def plain_vosk(model: Any, pcm: bytes, sample_rate: int) -> str:
    """Whole-file Vosk with its own endpointing, no VAD: the reference point."""
    from vosk import KaldiRecognizer

    rec = KaldiRecognizer(model, sample_rate)
    texts: list[str] = []
    step = 8000
    for i in range(0, len(pcm), step):
        if rec.AcceptWaveform(pcm[i : i + step]):
            texts.append(json.loads(rec.Result()).get("text", ""))
    texts.append(json.loads(rec.FinalResult()).get("text", ""))
    return " ".join(t for t in texts if t)


def find_label_files(root: Path) -> list[Path]:
    if not root.is_dir():
        raise DatasetError(f"{root}: not a directory")
    files = sorted(root.rglob("labels.csv"))
    if not files:
        raise DatasetError(f"{root}: no labels.csv found (expected columns path, transcript)")
    return files


def label_rows(labels: Path) -> list[dict[str, str]]:
    """The rows of a labels.csv that have a transcript (columns ``path`` and ``transcript`` needed)."""
    with labels.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or not {"path", "transcript"} <= set(reader.fieldnames):
            raise DatasetError(f"{labels}: needs columns 'path' and 'transcript'")
        return [r for r in reader if r.get("transcript", "").strip()]


def spread(rows: list[dict[str, str]], part: SplitPart | None, limit: int) -> list[dict[str, str]]:
    """The rows ``part`` keeps (less those its ``rest_of`` part takes); with ``limit``, at most that
    many, evenly spread over the rows ordered by speaker (so every speaker and every kind of item
    keeps its share)."""
    kept = sorted((r for r in rows if part is None or part.keeps(r)), key=lambda r: r.get("speaker", ""))
    if part is not None and part.rest_of is not None:
        taken = {r["path"] for r in spread(rows, part.rest_of, part.rest_of.files)}
        kept = [r for r in kept if r["path"] not in taken]
    if not limit or limit >= len(kept):
        return kept
    return [kept[i * len(kept) // limit] for i in range(limit)]


@dataclass(frozen=True, slots=True)
class Clip:
    """One labelled recording, decoded (mono, float, at the recognizer's rate)."""

    name: str
    samples: FloatArray
    ref: list[str]

    @property
    def pcm(self) -> bytes:
        return float_to_pcm16(self.samples)


def score_clip(
    pool: RecognizerPool,
    settings: Settings,
    pcm: bytes,
    ref: list[str],
    res: FolderResult,
    seeds: Sequence[int] = (0,),
    cache: PlainCache | None = None,
    log: WordsLog | None = None,
    clip: str = "",
    run: Callable[[Coroutine[Any, Any, list[Transcript]]], list[Transcript]] = asyncio.run,
) -> None:
    """Transcribe one clip with the pipeline (its coroutine run by ``run``) and with plain Vosk
    once per dither seed of ``seeds`` (both sides seeded alike, :mod:`asr.offline.draws`; plain
    from ``cache`` when there); add both to ``res``, and each decode to ``log``. A cached plain
    transcript adds no plain CPU time."""
    rate = settings.asr.sample_rate
    pipeline: list[list[str]] = []
    plain: list[list[str]] = []
    for seed in seeds:
        t0 = time.process_time()
        seed_dither(seed)
        finals = run(transcribe_legs(pool, settings, {Leg.AGENT: pcm}))
        t1 = time.process_time()
        text = cache.get(pcm, rate, seed) if cache is not None else None
        if text is None:
            seed_dither(seed)
            text = plain_vosk(pool.model, pcm, rate)
            if cache is not None:
                cache.put(pcm, rate, seed, text)
        res.pipeline.cpu_s += t1 - t0
        res.plain.cpu_s += time.process_time() - t1
        pipeline.append(normalise(" ".join(t.text for t in finals)))
        plain.append(normalise(text))
        if log is not None:
            words = [(w.text, w.conf) for t in finals for w in t.words]
            utterances = [(t.speech_s, len(t.words)) for t in finals]
            log.add(Decode(res.folder, res.condition, clip, seed, ref, plain[-1], words, utterances))
    res.pipeline.vad_cpu_s += vad_cpu(settings, pcm) * len(seeds)
    res.pipeline.add(ref, pipeline)
    res.plain.add(ref, plain)
    res.pipeline.audio_s += len(pcm) / 2 / rate * len(seeds)
    res.plain.audio_s += len(pcm) / 2 / rate * len(seeds)
    res.files += 1


def vad_cpu(settings: Settings, pcm: bytes) -> float:
    """CPU seconds the VAD alone takes over ``pcm`` (pushed in the pipeline's chunks)."""
    rate = settings.asr.sample_rate
    chunk = int(CHUNK_S * rate) * BYTES_PER_SAMPLE
    t0 = time.process_time()
    vad = VadSegmenter(settings.vad, rate, Leg.AGENT)
    for i in range(0, len(pcm), chunk):
        vad.push(pcm[i : i + chunk])
    vad.flush()
    return time.process_time() - t0


def load_clips(labels: Path, rows: list[dict[str, str]], rate: int, res: FolderResult) -> list[Clip]:
    """Decode the first channel of every labelled file; failures are recorded on ``res``."""
    clips: list[Clip] = []
    for row in rows:
        try:
            audio = decode_file(labels.parent / row["path"], target_rate=rate)
        except AgentMonitorError as exc:
            res.failures.append(str(exc))
            continue
        clips.append(Clip(row["path"], audio.samples[0], normalise(row["transcript"])))
    return clips


@dataclass(frozen=True, slots=True)
class EvalOptions:
    """How to run an evaluation: model, files per folder, line conditions, plain-Vosk cache, and
    how many dither draws of every clip each side decodes (:mod:`asr.offline.draws`)."""

    model_name: str | None = None
    limit: int = 0
    conditions: Sequence[Condition] = (CONDITIONS["clean"],)
    plain_cache: Path | None = None
    draws: int = 1
    #: write every decode, word by word with Vosk's confidences, here (:mod:`asr.offline.words_log`)
    words_out: Path | None = None


def evaluate_tree(
    settings: Settings, roots: Path | Sequence[Path], options: EvalOptions = EvalOptions()
) -> list[FolderResult]:
    """Score every folder under ``roots`` that has a labels.csv, under each line condition."""
    labels_files = [
        f for root in ([roots] if isinstance(roots, Path) else roots) for f in find_label_files(root)
    ]
    return _evaluate_parts(settings, [(f, None) for f in labels_files], options)


def evaluate_split(
    settings: Settings, split: str, options: EvalOptions = EvalOptions()
) -> list[FolderResult]:
    """Score the folders and speakers of ``split`` (:mod:`asr.offline.splits`) under the
    evaluation data dir, under each line condition."""
    return _evaluate_parts(settings, list(split_parts(split, settings.eval_data_dir)), options)


def _evaluate_parts(
    settings: Settings, parts: list[tuple[Path, SplitPart | None]], options: EvalOptions
) -> list[FolderResult]:
    pool = RecognizerPool.from_settings(settings, options.model_name)
    name = options.model_name or settings.asr.model
    decoder = settings.asr.decoder.get(pool.lang)
    key = f"{name}\0{decoder.model_dump_json() if decoder else ''}\0{pool.static_graph or ''}"
    if decoder is not None and decoder.dither == 0.0:
        options = replace(options, draws=1)  # without dither every draw is the same
    cache = PlainCache(options.plain_cache, key) if options.plain_cache is not None else None
    results: list[FolderResult] = []
    log = WordsLog(options.words_out) if options.words_out is not None else None
    try:
        # one event loop for every decode: a Ctrl-C that lands while asyncio.run builds a loop per
        # clip leaves a half-built one whose finalizer prints a traceback after "interrupted";
        # and one that lands while it closes is held till the close is done (event_loops.Runner)
        with Runner() as runner:
            for labels, part in parts:
                results.extend(_evaluate_folder(pool, settings, labels, part, options, (cache, log), runner))
        if log is not None:
            log.finish()
    finally:
        pool.close()
        if log is not None:
            log.close()
    return results


def _evaluate_folder(
    pool: RecognizerPool,
    settings: Settings,
    labels: Path,
    part: SplitPart | None,
    options: EvalOptions,
    keep: tuple[PlainCache | None, WordsLog | None],
    runner: Runner,
) -> list[FolderResult]:
    rows = spread(label_rows(labels), part, options.limit or (part.files if part else 0))
    cache, log = keep
    conditions = options.conditions
    folder = labels.parent.name
    results = [FolderResult(folder=folder, condition=c.name) for c in conditions]
    lang = "zh" if any(_CJK.search(r["transcript"]) for r in rows) else "en"
    hint = f"{lang} data, {pool.lang} model (--model {settings.asr.models.get(lang)})"
    skipped = "no transcripts" if not rows else "" if lang == pool.lang else hint
    for res in results:
        res.lang, res.skipped = lang, skipped
    if skipped:
        return results
    rate = settings.asr.sample_rate
    clips = load_clips(labels, rows, rate, results[0])
    noise = noise_bank_for(settings.eval_data_dir, labels.parent) if needs_noise(conditions) else None
    for condition, res in zip(conditions, results, strict=True):
        for clip in clips:
            pcm = degraded_pcm(clip.samples, rate, condition, noise, clip.name)
            seeds = [draw_seed(clip.name, condition.line, k) for k in range(options.draws)]
            score_clip(pool, settings, pcm, clip.ref, res, seeds, cache, log, clip=clip.name, run=runner.run)
    return results
