"""A speaker's own baseline: robust statistics of their window features.

The baseline collects the feature vectors of scored windows (or of whole reference clips) until it
holds ``needed_speech_s`` seconds of voiced speech; its value is then the per-feature **median** of
what was collected (robust to a shout or a cough in the first seconds). Afterwards it follows the
speaker slowly: :meth:`SpeakerBaseline.update` moves it toward calm windows with a time constant
of ``update_s`` seconds of speech, so a long stressed stretch does not become the new normal.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from agent_monitor.errors import StressError
from emotion.features import N_FEATURES, WindowFeatures
from emotion.pitch import FloatArray


class SpeakerBaseline:
    """Running baseline of one speaker (mutable; one per tracked leg)."""

    def __init__(self, needed_speech_s: float = 8.0, update_s: float = 300.0) -> None:
        if needed_speech_s <= 0 or update_s <= 0:
            raise StressError("baseline needs positive speech and update durations")
        self.needed_speech_s = float(needed_speech_s)
        self.update_s = float(update_s)
        self._rows: list[FloatArray] = []
        self._weights: list[float] = []
        self._speech_s = 0.0
        self._value: FloatArray | None = None

    @classmethod
    def from_windows(cls, windows: Iterable[WindowFeatures], update_s: float = 300.0) -> SpeakerBaseline:
        """A ready baseline from reference speech (e.g. a neutral clip), however long it is."""
        items = list(windows)
        if not items:
            raise StressError("no voiced speech in the baseline audio; cannot form a speaker baseline")
        base = cls(needed_speech_s=max(1e-3, sum(w.voiced_s for w in items)), update_s=update_s)
        for w in items:
            base.add(w)
        base.finish()
        return base

    @property
    def ready(self) -> bool:
        return self._value is not None

    @property
    def collected_speech_s(self) -> float:
        return self._speech_s

    @property
    def value(self) -> FloatArray:
        if self._value is None:
            raise StressError("speaker baseline is not formed yet")
        return self._value

    def add(self, window: WindowFeatures, new_speech_s: float | None = None) -> bool:
        """Collect a window while the baseline forms; returns True once it is ready.

        ``new_speech_s`` is the voiced speech this window adds that earlier windows did not already
        contain (overlapping live windows); default: all of the window's voiced speech.
        """
        if self._value is not None:
            return True
        if window.values.shape != (N_FEATURES,):
            raise StressError(f"baseline expects {N_FEATURES} features, got {window.values.shape}")
        added = window.voiced_s if new_speech_s is None else max(0.0, new_speech_s)
        self._rows.append(window.values.copy())
        self._weights.append(window.voiced_s)
        self._speech_s += added
        if self._speech_s >= self.needed_speech_s:
            self.finish()
        return self._value is not None

    def finish(self) -> None:
        """Form the baseline from what was collected (no-op when already formed or empty)."""
        if self._value is not None or not self._rows:
            return
        rows = np.vstack(self._rows)
        self._value = _weighted_median(rows, np.asarray(self._weights))
        self._rows.clear()
        self._weights.clear()

    def update(self, window: WindowFeatures, dt_s: float) -> None:
        """Follow the speaker slowly: move toward a calm window by ``dt_s / update_s``."""
        if self._value is None:
            return
        alpha = min(1.0, max(0.0, dt_s) / self.update_s)
        self._value = self._value + alpha * (window.values - self._value)


def _weighted_median(rows: FloatArray, weights: FloatArray) -> FloatArray:
    """Per-column median of ``rows`` weighted by ``weights`` (equal weights if none are usable)."""
    w = np.where(np.isfinite(weights) & (weights > 0), weights, 0.0)
    if w.sum() <= 0:
        w = np.ones(rows.shape[0])
    if rows.shape[0] <= 2:  # a median of two is their (weighted) mean
        mean: FloatArray = (rows * w[:, None]).sum(axis=0) / w.sum()
        return mean
    order = np.argsort(rows, axis=0)
    sorted_rows = np.take_along_axis(rows, order, axis=0)
    cum = np.cumsum(w[order], axis=0)
    half = cum[-1] / 2.0
    idx = np.argmax(cum >= half[None, :], axis=0)
    out: FloatArray = sorted_rows[idx, np.arange(rows.shape[1])]
    return out
