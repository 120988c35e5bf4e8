"""The ASR evaluation's table: per condition and folder, then one row per condition over all
English folders, each with its word count and a confidence note.

The note is a paired bootstrap over clips: clips are resampled with replacement (the pipeline's and
plain Vosk's errors on a clip stay together) and the 95% interval of the WER difference is printed,
with how many points one word is worth. With a few hundred words a difference of one or two words
is within the noise: the interval says so.
"""

from __future__ import annotations

import numpy as np

from asr.offline.evaluate import FolderResult, Score

#: bootstrap resamples of the clips, and the fixed seed that makes the interval reproducible
BOOTSTRAP_ROUNDS = 2000
BOOTSTRAP_SEED = 0
#: the acceptance bound: pipeline WER at most this many points above plain Vosk
BOUND_POINTS = 1.0


def diff_interval(pipeline: Score, plain: Score) -> tuple[float, float]:
    """95% paired-bootstrap interval of ``pipeline.wer - plain.wer`` over the clips, in points."""
    if not pipeline.clips or len(pipeline.clips) != len(plain.clips):
        return (float("nan"), float("nan"))
    p = np.array([e for e, _ in pipeline.clips], dtype=np.float64)
    v = np.array([e for e, _ in plain.clips], dtype=np.float64)
    n = np.array([r for _, r in pipeline.clips], dtype=np.float64)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    idx = rng.integers(0, len(p), size=(BOOTSTRAP_ROUNDS, len(p)))
    diff = 100.0 * (p[idx].sum(axis=1) - v[idx].sum(axis=1)) / np.maximum(1.0, n[idx].sum(axis=1))
    lo, hi = np.percentile(diff, [2.5, 97.5])
    return (float(lo), float(hi))


def _add(total: Score, score: Score) -> None:
    total.errors += score.errors
    total.ref_tokens += score.ref_tokens
    total.audio_s += score.audio_s
    total.cpu_s += score.cpu_s
    total.vad_cpu_s += score.vad_cpu_s
    total.clips.extend(score.clips)


def _note(p: Score, v: Score) -> str:
    lo, hi = diff_interval(p, v)
    word = 100.0 / max(1, p.ref_tokens)
    verdict = "yes" if p.wer - v.wer <= BOUND_POINTS else "NO"
    return f"  [{lo:+6.2f}, {hi:+6.2f}]  1 word={word:.2f}  {verdict}"


def _row(label: str, files: int | str, p: Score, v: Score, suffix: str = "") -> str:
    return (
        f"{label:<40} {files:>5} {p.ref_tokens:>6} {p.wer:>11.2f}% {v.wer:>8.2f}% "
        f"{p.wer - v.wer:>+6.2f}{suffix}"
    )


def _head(label: str, note: bool = False) -> str:
    head = f"{label:<40} {'files':>5} {'words':>6} {'WER pipeline':>12} {'WER plain':>9} {'diff':>6}"
    return head + ("  diff 95% CI (clips)  points   <=+1" if note else "")


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
        lines += ["", _head("condition (all en folders)", note=True), "-" * len(head)]
        lines.extend(_row(name, n, p, v, _note(p, v)) for name, (p, v, n) in by_condition.items())
    lines.append("-" * len(head))
    lines.append(_row("overall (en)", "", total_p, total_v, _note(total_p, total_v) if total_p.clips else ""))
    if total_p.audio_s:
        lines.append(
            f"CPU time per audio second: pipeline {total_p.cpu_s / total_p.audio_s:.3f}, "
            f"plain {total_v.cpu_s / total_v.audio_s:.3f} (cached plain transcripts count 0); "
            f"VAD alone {1000 * total_p.vad_cpu_s / total_p.audio_s:.2f} ms"
        )
    return "\n".join(lines)
