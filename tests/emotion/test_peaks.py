"""emotion.peaks.find_peaks returns SciPy's find_peaks(x, prominence=, distance=) indices."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import find_peaks as scipy_find_peaks

from emotion.peaks import find_peaks, local_maxima


@pytest.mark.parametrize("distance", [1, 2, 3.5, 8])
@pytest.mark.parametrize("prominence", [0.0, 0.5, 2.0, 6.0])
def test_same_peaks_as_scipy_on_random_and_flat_topped_signals(distance: float, prominence: float) -> None:
    rng = np.random.default_rng(int(distance * 10 + prominence))
    for trial in range(120):
        n = int(rng.integers(1, 400))
        if trial % 3 == 0:  # small integers: flat tops and equal heights everywhere
            x = rng.integers(0, 6, n).astype(np.float64)
        elif trial % 3 == 1:  # a smoothed level envelope, as emotion.features builds it
            x = np.convolve(rng.normal(0, 4, n).cumsum(), np.ones(5) / 5, mode="same")
        else:
            x = np.round(rng.normal(0, 3, n), 1)
        expected, _ = scipy_find_peaks(x, prominence=prominence, distance=distance)
        np.testing.assert_array_equal(find_peaks(x, prominence, distance), expected, err_msg=f"{x.tolist()}")


def test_flat_tops_count_once_at_their_middle_and_ends_never() -> None:
    assert local_maxima(np.array([0.0, 2, 2, 2, 2, 0, 5])).tolist() == [2]
    assert local_maxima(np.array([3.0, 1, 1, 3])).tolist() == []
    assert find_peaks(np.array([]), 1.0, 8).tolist() == []
