"""The ASR evaluation's table: per condition and folder, then one row per condition over all
English folders, each with its word count and a confidence note.

The note is a paired bootstrap over clips and dither draws: clips are resampled with replacement
(the pipeline's and plain Vosk's errors on a clip stay together) and, within each resampled clip,
each side's draws are resampled with replacement (:mod:`asr.offline.draws`: with ``K`` draws a clip
counts the mean of ``K`` draws picked from its own); the 95% interval of the WER difference is
printed, with how many points one word is worth. With a few hundred words a difference of one or
two words is within the noise: the interval says so. With several draws each row also gives the
lowest and highest WER of a single draw of each side.
"""

from __future__ import annotations

import numpy as np

from asr.offline.evaluate import FolderResult, Score

#: bootstrap resamples of the clips, and the fixed seed that makes the interval reproducible
BOOTSTRAP_ROUNDS = 2000
BOOTSTRAP_SEED = 0
#: the acceptance bound: pipeline WER at most this many points above plain Vosk
BOUND_POINTS = 1.0


def _resampled_errors(errors: np.ndarray, idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Errors of the resampled clips ``idx`` (rounds x clips), each the mean of as many draws as a
    clip has, picked with replacement from its own (``errors``: clips x draws)."""
    draws = errors.shape[1]
    picks = rng.integers(0, draws, size=(*idx.shape, draws))
    return np.asarray(errors[idx[..., None], picks].mean(axis=2))


def diff_interval(pipeline: Score, plain: Score) -> tuple[float, float]:
    """95% paired-bootstrap interval of ``pipeline.wer - plain.wer`` over the clips and the dither
    draws, in points."""
    if not pipeline.clips or len(pipeline.clips) != len(plain.clips):
        return (float("nan"), float("nan"))
    p = np.array([e for e, _ in pipeline.clips], dtype=np.float64)
    v = np.array([e for e, _ in plain.clips], dtype=np.float64)
    n = np.array([r for _, r in pipeline.clips], dtype=np.float64)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    idx = rng.integers(0, len(p), size=(BOOTSTRAP_ROUNDS, len(p)))
    p_err = _resampled_errors(p, idx, rng).sum(axis=1)
    v_err = _resampled_errors(v, idx, rng).sum(axis=1)
    diff = 100.0 * (p_err - v_err) / np.maximum(1.0, n[idx].sum(axis=1))
    lo, hi = np.percentile(diff, [2.5, 97.5])
    return (float(lo), float(hi))


def draw_wers(score: Score) -> list[float]:
    """The WER of each single dither draw of ``score``, in points."""
    words = max(1, score.ref_tokens)
    return [100.0 * sum(e[k] for e, _ in score.clips) / words for k in range(score.draws)]


def _add(total: Score, score: Score) -> None:
    if total.clips and total.draws != score.draws:
        raise ValueError(f"cannot pool {score.draws} draws with {total.draws}")
    total.draws = score.draws
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
    note = f"  [{lo:+6.2f}, {hi:+6.2f}]  1 word={word:.2f}  {verdict}"
    if p.draws > 1:
        pw, vw = draw_wers(p), draw_wers(v)
        note += f"  draws: pipeline {min(pw):.2f}-{max(pw):.2f}, plain {min(vw):.2f}-{max(vw):.2f}"
    return note


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
    draws = max((r.pipeline.draws for r in results), default=1)
    lines = [f"dither draws per clip and side: {draws} (WER: mean over the draws)", head, "-" * len(head)]
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
