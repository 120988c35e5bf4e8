"""ASR evaluation: word error rate of the VAD-gated pipeline beside plain whole-file Vosk.

Both are run with the same model in the same process, so the cost or gain of VAD gating and
segmentation is visible. Text is normalised (case, punctuation) before scoring; Chinese is scored
per character (CER).
"""

from __future__ import annotations

import csv
import json
import re
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent_monitor.errors import AgentMonitorError, DatasetError
from agent_monitor.settings import Settings
from asr.cer import zh_chars

_CJK = re.compile(r"[\u4e00-\u9fff]")


def normalise(text: str) -> list[str]:
    """Lower-case, drop punctuation (keeping in-word apostrophes); Chinese splits per character
    (:func:`asr.cer.zh_chars`: punctuation and spaces removed, digits normalised)."""
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


def evaluate_tree(
    settings: Settings, root: Path, *, model_name: str | None = None, limit: int = 0
) -> list[FolderResult]:
    """Score every folder under ``root`` that has a labels.csv with transcripts."""
    import asyncio

    from asr.decode import decode_file, split_legs
    from asr.streaming import RecognizerPool
    from asr.transcribe import transcribe_legs

    labels_files = find_label_files(root)
    pool = RecognizerPool.from_settings(settings, model_name)
    rate = settings.asr.sample_rate
    results: list[FolderResult] = []
    try:
        for labels in labels_files:
            rows = _rows(labels)
            folder = str(labels.parent.relative_to(root)) if labels.parent != root else root.name
            res = FolderResult(folder=folder)
            results.append(res)
            if not rows:
                res.skipped = "no transcripts"
                continue
            res.lang = "zh" if any(_CJK.search(r["transcript"]) for r in rows) else "en"
            if res.lang != pool.lang:
                hint = settings.asr.models.get(res.lang)
                res.skipped = f"{res.lang} data, {pool.lang} model (--model {hint})"
                continue
            for row in rows[: limit or None]:
                path = labels.parent / row["path"]
                try:
                    audio = decode_file(path, target_rate=rate)
                    legs = split_legs(audio, None, "left")
                except AgentMonitorError as exc:
                    res.failures.append(str(exc))
                    continue
                ref = normalise(row["transcript"])
                for leg_pcm in list(legs.values())[:1]:
                    t0 = time.process_time()
                    finals = asyncio.run(transcribe_legs(pool, settings, {next(iter(legs)): leg_pcm}))
                    t1 = time.process_time()
                    plain = plain_vosk(pool.model, leg_pcm, rate)
                    t2 = time.process_time()
                    res.pipeline.add(ref, normalise(" ".join(t.text for t in finals)))
                    res.plain.add(ref, normalise(plain))
                    res.pipeline.cpu_s += t1 - t0
                    res.plain.cpu_s += t2 - t1
                    res.pipeline.audio_s += audio.duration
                    res.plain.audio_s += audio.duration
                res.files += 1
    finally:
        pool.close()
    return results


def format_report(results: list[FolderResult]) -> str:
    head = f"{'folder':<28} {'files':>5} {'tokens':>6} {'WER pipeline':>12} {'WER plain':>9} {'diff':>6}"
    lines = [head, "-" * len(head)]
    total_p, total_v = Score(), Score()
    for r in results:
        if r.skipped:
            lines.append(f"{r.folder:<28} {'-':>5} {'-':>6} skipped: {r.skipped}")
            continue
        metric = "CER" if r.lang == "zh" else "WER"
        diff = r.pipeline.wer - r.plain.wer
        lines.append(
            f"{r.folder:<28} {r.files:>5} {r.pipeline.ref_tokens:>6} {r.pipeline.wer:>11.2f}% "
            f"{r.plain.wer:>8.2f}% {diff:>+6.2f}" + ("" if metric == "WER" else "  (CER)")
        )
        for failure in r.failures:
            lines.append(f"    failed: {failure}")
        if r.lang == "en":
            for total, score in ((total_p, r.pipeline), (total_v, r.plain)):
                total.errors += score.errors
                total.ref_tokens += score.ref_tokens
                total.audio_s += score.audio_s
                total.cpu_s += score.cpu_s
    lines.append("-" * len(head))
    lines.append(
        f"{'overall (en)':<28} {'':>5} {total_p.ref_tokens:>6} {total_p.wer:>11.2f}% "
        f"{total_v.wer:>8.2f}% {total_p.wer - total_v.wer:>+6.2f}"
    )
    if total_p.audio_s:
        lines.append(
            f"CPU time per audio second: pipeline {total_p.cpu_s / total_p.audio_s:.3f}, "
            f"plain {total_v.cpu_s / total_v.audio_s:.3f}"
        )
    return "\n".join(lines)
