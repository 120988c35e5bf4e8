"""Labelled emotional-speech folders (``labels.csv`` + audio) and their clip features.

A corpus folder holds ``labels.csv`` with at least the columns ``path`` (relative to the folder),
``label`` (emotion), ``speaker`` and ``arousal`` (``high`` / ``low``), as in the shared
``emotion/ravdess`` and ``emotion/casia`` folders. A data folder is either one corpus or a folder
of corpora (``emotion/``, or the shared data root holding ``emotion/``).
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import numpy.typing as npt

from agent_monitor.audio.conditions import CONDITIONS, Condition
from agent_monitor.audio.decode import decode_file
from agent_monitor.audio.noise import NoiseBank
from agent_monitor.errors import AudioFormatError, DatasetError, StressError
from emotion.features import N_FEATURES, WindowFeatures
from emotion.offline import duplicates
from emotion.offline.augment import training_line, variant_names
from emotion.offline.cache import FeatureCache
from emotion.offline.duplicates import DuplicatePair, conflicting_duplicates
from emotion.pitch import FloatArray

REQUIRED_COLUMNS = ("path", "label", "speaker", "arousal")
CLEAN = CONDITIONS["clean"]
MULAW = CONDITIONS["mulaw"]
#: labels usable as a speaker's baseline, in order of preference
BASELINE_LABELS = ("neutral", "calm")
#: baseline reference: the speaker's neutral clips in file order until this much audio
BASELINE_AUDIO_S = 3.0


@dataclass(frozen=True, slots=True)
class Clip:
    corpus: str
    path: Path
    label: str
    speaker: str
    high: bool
    #: the ``path`` entry of ``labels.csv`` (the file inside its corpus folder)
    entry: str = ""

    @property
    def speaker_key(self) -> str:
        """Speaker id qualified by corpus (speaker names are only unique within a corpus)."""
        return f"{self.corpus}/{self.speaker}"


def find_corpora(folder: Path) -> list[Path]:
    """Corpus folders (holding ``labels.csv``) at or directly under ``folder`` (or ``folder/emotion``)."""
    if not folder.is_dir():
        raise DatasetError(f"{folder}: data folder not found")
    if (folder / "labels.csv").is_file():
        return [folder]
    for base in (folder, folder / "emotion"):
        found = sorted(p.parent for p in base.glob("*/labels.csv")) if base.is_dir() else []
        if found:
            return found
    raise DatasetError(f"{folder}: no labels.csv here or in its sub-folders")


def load_clips(corpus_dir: Path) -> list[Clip]:
    """The labelled clips of one corpus folder, validated."""
    labels = corpus_dir / "labels.csv"
    try:
        with labels.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                raise DatasetError(f"{labels}: missing column(s) {', '.join(missing)}")
            rows = list(reader)
    except OSError as exc:
        raise DatasetError(f"{labels}: cannot read: {exc}") from exc
    clips = []
    for n, row in enumerate(rows, start=2):
        arousal = row["arousal"].strip().lower()
        if arousal not in ("high", "low"):
            raise DatasetError(f"{labels}:{n}: arousal must be high or low, not {row['arousal']!r}")
        path = corpus_dir / row["path"]
        if not path.is_file():
            raise DatasetError(f"{labels}:{n}: audio file {row['path']} not found")
        clips.append(
            Clip(
                corpus=corpus_dir.name,
                path=path,
                label=row["label"].strip().lower(),
                speaker=row["speaker"].strip(),
                high=arousal == "high",
                entry=row["path"],
            )
        )
    if not clips:
        raise DatasetError(f"{labels}: no clips listed")
    return clips


def read_audio(path: Path) -> tuple[npt.NDArray[np.float32], int]:
    """Decode an audio file to float32 mono (channels averaged) at its own sample rate, by the
    product's one decoder (:func:`agent_monitor.audio.decode.decode_file`): a truncated, empty or
    unreadable file is an :class:`AudioDecodeError` naming the problem, never scored as a part."""
    audio = decode_file(path, target_rate=None)
    if audio.sample_rate < 8000:
        raise AudioFormatError(
            str(path), f"sample rate {audio.sample_rate} Hz is too low (need at least 8000 Hz)"
        )
    mono: npt.NDArray[np.float32] = audio.samples.mean(axis=0).astype(np.float32)
    return mono, audio.sample_rate


@dataclass(frozen=True)
class ClipTable:
    """Clip features of a set of clips under several line conditions (rows follow ``clips``).

    A row is NaN (and its ``voiced_s`` 0) where the clip held too little voiced speech to score
    under that condition (e.g. a quiet clip 40 dB down through a codec).
    """

    clips: tuple[Clip, ...]
    #: condition name -> (n_clips x N_FEATURES) feature rows
    features: dict[str, FloatArray]
    #: seconds of voiced speech per clip, per condition
    voiced_s: dict[str, FloatArray]
    durations: FloatArray
    #: clips left out because the same recording is also filed under the other arousal label
    #: (:mod:`emotion.offline.duplicates`): one line per pair, naming both files
    excluded: tuple[str, ...] = ()

    @property
    def conditions(self) -> tuple[str, ...]:
        return tuple(self.features)

    @property
    def y(self) -> npt.NDArray[np.int_]:
        return np.array([int(c.high) for c in self.clips])

    @property
    def speakers(self) -> npt.NDArray[np.str_]:
        return np.array([c.speaker_key for c in self.clips])

    @property
    def corpora(self) -> npt.NDArray[np.str_]:
        return np.array([c.corpus for c in self.clips])

    def subset(self, mask: npt.NDArray[np.bool_]) -> ClipTable:
        idx = np.flatnonzero(mask)
        return ClipTable(
            clips=tuple(self.clips[i] for i in idx),
            features={k: v[idx] for k, v in self.features.items()},
            voiced_s={k: v[idx] for k, v in self.voiced_s.items()},
            durations=self.durations[idx],
            excluded=self.excluded,
        )

    @staticmethod
    def concat(tables: list[ClipTable]) -> ClipTable:
        names = tables[0].conditions
        if any(t.conditions != names for t in tables):
            raise DatasetError("clip tables measured under different conditions cannot be joined")
        return ClipTable(
            clips=tuple(c for t in tables for c in t.clips),
            features={k: np.vstack([t.features[k] for t in tables]) for k in names},
            voiced_s={k: np.concatenate([t.voiced_s[k] for t in tables]) for k in names},
            durations=np.concatenate([t.durations for t in tables]),
            excluded=tuple(line for t in tables for line in t.excluded),
        )


def measure_clips(
    clips: list[Clip],
    conditions: Sequence[Condition] = (CLEAN, MULAW),
    augment: int = 0,
    noise: NoiseBank | None = None,
    cache: FeatureCache | None = None,
    jobs: int = 1,
) -> ClipTable:
    """Features of every clip under each line condition, plus ``augment`` random training lines.

    ``conditions`` come from :mod:`agent_monitor.audio.conditions` (``clean`` is always measured
    first); the training lines ``aug0``.. are drawn by :func:`emotion.offline.augment.training_line`.
    Noise conditions need ``noise``. A clip with too little voiced speech in the ``clean``
    condition raises :class:`DatasetError` naming it (a labelled silent clip is a data error, not
    something to skip quietly); under other conditions its row is NaN. ``jobs`` > 1 measures the
    clips in that many worker processes (the same table: every clip's lines are seeded by the clip).

    One recording filed under both a high- and a low-arousal label (same speaker; see
    :mod:`emotion.offline.duplicates`) is a labelling error that no acoustic model can resolve: both clips
    are left out, and listed in ``excluded`` so that reports say so.
    """
    names = [CLEAN.name, *(c.name for c in conditions if c.name != CLEAN.name), *variant_names(augment)]
    feats = {c: np.full((len(clips), N_FEATURES), np.nan) for c in names}
    voiced = {c: np.zeros(len(clips)) for c in names}
    durations = np.zeros(len(clips))
    phone: list[npt.NDArray[np.float32]] = []
    lines = (CLEAN, *(c for c in conditions if c.name != CLEAN.name))
    for i, (clip, (duration, mulaw, rows)) in enumerate(
        zip(clips, _measure_all(clips, lines, augment, noise, cache, jobs), strict=True)
    ):
        durations[i] = duration
        phone.append(mulaw)
        for name, row in rows:
            if name == CLEAN.name and not np.isfinite(row[0]):
                raise DatasetError(f"{clip.path}: too little voiced speech to score")
            feats[name][i] = row[1:]
            voiced[name][i] = row[0] if np.isfinite(row[0]) else 0.0
    pairs = _duplicates(clips, phone, cache)
    keep = np.ones(len(clips), bool)
    notes = []
    for p in pairs:
        keep[[p.first, p.second]] = False
        a, b = clips[p.first], clips[p.second]
        notes.append(
            f"{a.speaker_key}: {a.entry or a.path.name} ({a.label}) and {b.entry or b.path.name} "
            f"({b.label}) are one recording "
            f"(similarity {p.similarity:.3f})"
        )
    table = ClipTable(tuple(clips), feats, voiced, durations, tuple(notes))
    return table.subset(keep) if pairs else table


def _duplicates(
    clips: list[Clip], phone: list[npt.NDArray[np.float32]], cache: FeatureCache | None
) -> list[DuplicatePair]:
    """:func:`conflicting_duplicates` of the clips (their 8 kHz mu-law audio), kept in ``cache``
    under the clip files, speakers, labels and the source of :mod:`emotion.offline.duplicates`."""
    speakers, high = [c.speaker_key for c in clips], [c.high for c in clips]
    if cache is None:
        return conflicting_duplicates(speakers, high, phone)
    tag = "duplicates:" + hashlib.sha256(Path(duplicates.__file__).read_bytes()).hexdigest()
    key = cache.group_key(
        tag, [c.path for c in clips], [f"{s}:{h}" for s, h in zip(speakers, high, strict=True)]
    )
    hit = cache.get(key)
    if hit is not None and hit.ndim == 2 and hit.shape[1] == 3:
        return [DuplicatePair(int(a), int(b), float(sim)) for a, b, sim in hit]
    pairs = conflicting_duplicates(speakers, high, phone)
    cache.put(
        key, np.array([[p.first, p.second, p.similarity] for p in pairs], dtype=np.float64).reshape(-1, 3)
    )
    return pairs


#: what one clip measures to: its seconds, its 8 kHz mu-law audio, (line name, row) per line
Measured = tuple[float, npt.NDArray[np.float32], list[tuple[str, FloatArray]]]


def default_jobs() -> int:
    """Worker processes for measuring clips: the processors this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


#: fewer clips to measure than this are measured in the calling process (a worker takes ~1 s to start)
MIN_PARALLEL_CLIPS = 16


def _measure_all(
    clips: list[Clip],
    lines: tuple[Condition, ...],
    augment: int,
    noise: NoiseBank | None,
    cache: FeatureCache | None,
    jobs: int,
) -> list[Measured]:
    """:func:`_measure_clip` of every clip, in order. With ``jobs`` > 1 the clips with a line not
    yet in ``cache`` are measured in that many fresh worker processes, the others here."""
    todo = [i for i, clip in enumerate(clips) if cache is None or not _cached(clip, lines, augment, cache)]
    if jobs <= 1 or len(todo) < MIN_PARALLEL_CLIPS:
        return [_measure_clip(lines, augment, noise, cache, clip) for clip in clips]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawned, not forked: the caller may hold threads (a server, a test run) whose locks a fork copies
    context = multiprocessing.get_context("spawn")
    workers = min(jobs, len(todo))
    with ProcessPoolExecutor(workers, context, initializer=_set_worker_noise, initargs=(noise,)) as pool:
        task = partial(_measure_in_worker, lines, augment, cache)
        chunk = max(1, len(todo) // (4 * workers))
        done = dict(zip(todo, pool.map(task, [clips[i] for i in todo], chunksize=chunk), strict=True))
    return [done.get(i) or _measure_clip(lines, augment, noise, cache, clip) for i, clip in enumerate(clips)]


def _cached(clip: Clip, lines: tuple[Condition, ...], augment: int, cache: FeatureCache) -> bool:
    """Is every line of the clip (its training lines too) in the cache already?"""
    seed = clip.entry or clip.path.name
    every = [*lines, *(training_line(clip.speaker_key, seed, k) for k in range(augment))]
    return all(cache.has(cache.key(clip.path, line, seed)) for line in every)


_worker_noise: NoiseBank | None = None


def _set_worker_noise(noise: NoiseBank | None) -> None:
    global _worker_noise
    _worker_noise = noise


def _measure_in_worker(
    lines: tuple[Condition, ...], augment: int, cache: FeatureCache | None, clip: Clip
) -> Measured:
    return _measure_clip(lines, augment, _worker_noise, cache, clip)


def _measure_clip(
    lines: tuple[Condition, ...],
    augment: int,
    noise: NoiseBank | None,
    cache: FeatureCache | None,
    clip: Clip,
) -> Measured:
    """One clip over ``lines`` and its ``augment`` training lines (rows as :func:`_measure`)."""
    x, rate = read_audio(clip.path)
    every = [
        *lines,
        *(training_line(clip.speaker_key, clip.entry or clip.path.name, k) for k in range(augment)),
    ]
    rows = [(line.name, _measure(x, rate, clip, line, noise, cache)) for line in every]
    return x.size / rate, MULAW.apply(x, rate)[0], rows


def _measure(
    x: npt.NDArray[np.float32],
    rate: int,
    clip: Clip,
    line: Condition,
    noise: NoiseBank | None,
    cache: FeatureCache | None,
) -> FloatArray:
    """(voiced seconds, features...) of one clip over one line; NaN when it cannot be scored."""
    from emotion.tracker import clip_features

    seed = clip.entry or clip.path.name
    key = cache.key(clip.path, line, seed) if cache is not None else ""
    if cache is not None and (hit := cache.get(key)) is not None and hit.shape == (N_FEATURES + 1,):
        return hit
    audio, sr = line.apply(x, rate, noise=noise, seed=seed)
    try:
        w: WindowFeatures = clip_features(audio, sr)
        row = np.concatenate([[w.voiced_s], w.values])
    except StressError:
        row = np.full(N_FEATURES + 1, np.nan)
    if cache is not None:
        cache.put(key, row)
    return row


def baseline_clips(table: ClipTable, variant: int = 0) -> dict[str, list[int]]:
    """Per speaker key, the row indices of the clips that form their baseline.

    The speaker's ``neutral`` clips (else ``calm``) in file order until :data:`BASELINE_AUDIO_S`
    of audio: one RAVDESS clip (3-4 s), two CASIA clips (about 2 s each). Speakers without such
    clips are absent. ``variant`` k > 0 (training only) takes the k-th such group instead: the
    next neutral clips, then the calm ones; speakers without a k-th group are absent.
    """
    out: dict[str, list[int]] = {}
    for key in dict.fromkeys(table.speakers.tolist()):
        groups: list[list[int]] = []
        for label in BASELINE_LABELS:
            idx = sorted(
                (i for i, c in enumerate(table.clips) if c.speaker_key == key and c.label == label),
                key=lambda i: str(table.clips[i].path),
            )
            chosen: list[int] = []
            total = 0.0
            for i in idx:
                chosen.append(i)
                total += float(table.durations[i])
                if total >= BASELINE_AUDIO_S:
                    groups.append(chosen)
                    chosen, total = [], 0.0
            if chosen and not groups:
                groups.append(chosen)  # less than BASELINE_AUDIO_S in all: use what there is
        if variant < len(groups):
            out[key] = groups[variant]
    return out
