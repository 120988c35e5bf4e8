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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent_monitor.audio.conditions import CONDITIONS, Condition, needs_noise
from agent_monitor.audio.decode import FloatArray, decode_file, float_to_pcm16
from agent_monitor.errors import AgentMonitorError, DatasetError
from agent_monitor.model.audio import Leg
from agent_monitor.settings import Settings
from asr.offline.cer import zh_chars
from asr.offline.degrade import degraded_pcm, noise_bank_for
from asr.streaming import RecognizerPool
from asr.transcribe import transcribe_legs

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
    errors: int = 0
    ref_tokens: int = 0
    audio_s: float = 0.0
    cpu_s: float = 0.0

    def add(self, ref: list[str], hyp: list[str]) -> None:
        self.errors += edit_distance(ref, hyp)
        self.ref_tokens += len(ref)

    @property
    def wer(self) -> float:
        return 100.0 * self.errors / max(1, self.ref_tokens)


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


def _rows(labels: Path) -> list[dict[str, str]]:
    with labels.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or not {"path", "transcript"} <= set(reader.fieldnames):
            raise DatasetError(f"{labels}: needs columns 'path' and 'transcript'")
        return [r for r in reader if r.get("transcript", "").strip()]


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
    pool: RecognizerPool, settings: Settings, pcm: bytes, ref: list[str], res: FolderResult
) -> None:
    """Transcribe one clip with the pipeline and with plain Vosk; add both to ``res``."""
    rate = settings.asr.sample_rate
    t0 = time.process_time()
    finals = asyncio.run(transcribe_legs(pool, settings, {Leg.AGENT: pcm}))
    t1 = time.process_time()
    plain = plain_vosk(pool.model, pcm, rate)
    t2 = time.process_time()
    res.pipeline.add(ref, normalise(" ".join(t.text for t in finals)))
    res.plain.add(ref, normalise(plain))
    res.pipeline.cpu_s += t1 - t0
    res.plain.cpu_s += t2 - t1
    res.pipeline.audio_s += len(pcm) / 2 / rate
    res.plain.audio_s += len(pcm) / 2 / rate
    res.files += 1


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


def evaluate_tree(
    settings: Settings,
    roots: Path | Sequence[Path],
    *,
    model_name: str | None = None,
    limit: int = 0,
    conditions: Sequence[Condition] = (CONDITIONS["clean"],),
) -> list[FolderResult]:
    """Score every folder under ``roots`` that has a labels.csv, under each line condition."""
    labels_files = [
        f for root in ([roots] if isinstance(roots, Path) else roots) for f in find_label_files(root)
    ]
    pool = RecognizerPool.from_settings(settings, model_name)
    results: list[FolderResult] = []
    try:
        for labels in labels_files:
            results.extend(_evaluate_folder(pool, settings, labels, limit, conditions))
    finally:
        pool.close()
    return results


def _evaluate_folder(
    pool: RecognizerPool, settings: Settings, labels: Path, limit: int, conditions: Sequence[Condition]
) -> list[FolderResult]:
    rows = _rows(labels)[: limit or None]
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
            score_clip(pool, settings, pcm, clip.ref, res)
    return results


def _add(total: Score, score: Score) -> None:
    total.errors += score.errors
    total.ref_tokens += score.ref_tokens
    total.audio_s += score.audio_s
    total.cpu_s += score.cpu_s


def _row(label: str, files: int | str, p: Score, v: Score, suffix: str = "") -> str:
    return (
        f"{label:<40} {files:>5} {p.ref_tokens:>6} {p.wer:>11.2f}% {v.wer:>8.2f}% "
        f"{p.wer - v.wer:>+6.2f}{suffix}"
    )


def _head(label: str) -> str:
    return f"{label:<40} {'files':>5} {'words':>6} {'WER pipeline':>12} {'WER plain':>9} {'diff':>6}"


def format_report(results: list[FolderResult]) -> str:
    """Per condition and folder, then (several conditions) one row per condition over all folders."""
    head = _head("condition / folder")
    lines = [head, "-" * len(head)]
    by_condition: dict[str, tuple[Score, Score, int]] = {}
    total_p, total_v = Score(), Score()
    for r in results:
        label = f"{r.condition} / {r.folder}"
        if r.skipped:
            lines.append(f"{label:<40} {'-':>5} {'-':>6} skipped: {r.skipped}")
            continue
        lines.append(_row(label, r.files, r.pipeline, r.plain, "" if r.lang == "en" else "  (CER)"))
        lines.extend(f"    failed: {failure}" for failure in r.failures)
        if r.lang == "en":
            p, v, n = by_condition.setdefault(r.condition, (Score(), Score(), 0))
            _add(p, r.pipeline)
            _add(v, r.plain)
            by_condition[r.condition] = (p, v, n + r.files)
            _add(total_p, r.pipeline)
            _add(total_v, r.plain)
    if len(by_condition) > 1:
        lines += ["", _head("condition (all en folders)"), "-" * len(head)]
        lines.extend(_row(name, n, p, v) for name, (p, v, n) in by_condition.items())
    lines.append("-" * len(head))
    lines.append(_row("overall (en)", "", total_p, total_v))
    if total_p.audio_s:
        lines.append(
            f"CPU time per audio second: pipeline {total_p.cpu_s / total_p.audio_s:.3f}, "
            f"plain {total_v.cpu_s / total_v.audio_s:.3f}"
        )
    return "\n".join(lines)
