"""Peaks of a 1-D signal by prominence and distance: SciPy's ``find_peaks`` rule, without SciPy.

Importing ``scipy.signal`` costs about 76 MiB of resident memory per process (it pulls in
``scipy.stats``, ``sparse``, ``linalg``, ``special``), and the live server needs only this one
function from it (for the syllable nuclei of :mod:`emotion.features`). :func:`find_peaks` follows
``scipy.signal.find_peaks(x, prominence=p, distance=d)`` step by step, so it returns the same
indices (tested against SciPy on random and plateau-rich signals):

1. local maxima: a sample higher than the one before it and than the first different sample
   after it; a flat top counts once, at its middle (rounded down); the two ends never count;
2. distance: from the highest peak down (ties in NumPy's ``argsort`` order), every other peak
   closer than ``ceil(distance)`` samples is removed;
3. prominence: the peak's height above the higher of the lowest points on each side before the
   signal rises above the peak (or ends); peaks below ``prominence`` are removed.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from emotion.pitch import FloatArray

IntArray = npt.NDArray[np.intp]


def local_maxima(x: FloatArray) -> IntArray:
    """Indices of the local maxima (flat tops at their middle, rounded down), ends excluded."""
    peaks = []
    i, i_max = 1, len(x) - 1
    while i < i_max:
        if x[i - 1] < x[i]:
            ahead = i + 1
            while ahead < i_max and x[ahead] == x[i]:
                ahead += 1
            if x[ahead] < x[i]:
                peaks.append((i + ahead - 1) // 2)
                i = ahead
        i += 1
    return np.asarray(peaks, dtype=np.intp)


def keep_apart(peaks: IntArray, heights: FloatArray, distance: float) -> IntArray:
    """``peaks`` with every peak closer than ``ceil(distance)`` to a higher kept one removed."""
    span = math.ceil(distance)
    keep = np.ones(len(peaks), dtype=bool)
    for j in np.argsort(heights)[::-1]:
        if not keep[j]:
            continue
        k = j - 1
        while k >= 0 and peaks[j] - peaks[k] < span:
            keep[k] = False
            k -= 1
        k = j + 1
        while k < len(peaks) and peaks[k] - peaks[j] < span:
            keep[k] = False
            k += 1
    return peaks[keep]


def prominences(x: FloatArray, peaks: IntArray) -> FloatArray:
    """Each peak's height above the higher of its two bases (whole signal as the window)."""
    out = np.empty(len(peaks))
    for n, peak in enumerate(peaks):
        top = x[peak]
        higher_left = np.flatnonzero(x[:peak] > top)
        higher_right = np.flatnonzero(x[peak + 1 :] > top)
        left = x[(higher_left[-1] + 1 if len(higher_left) else 0) : peak + 1].min()
        right = x[peak : (peak + 1 + higher_right[0] if len(higher_right) else len(x))].min()
        out[n] = top - max(left, right)
    return out


def find_peaks(x: FloatArray, prominence: float, distance: float = 1.0) -> IntArray:
    """Indices of the peaks of ``x`` at least ``distance`` apart and ``prominence`` high."""
    x = np.asarray(x, dtype=np.float64)
    peaks = local_maxima(x)
    if distance > 1 and len(peaks):
        peaks = keep_apart(peaks, x[peaks], distance)
    return peaks[prominences(x, peaks) >= prominence] if len(peaks) else peaks
