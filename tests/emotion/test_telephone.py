"""G.711 mu-law codec and the 8 kHz phone-line simulation."""

from __future__ import annotations

import numpy as np

from emotion.telephone import float_to_pcm16, mulaw_decode, mulaw_encode, to_telephone

Audio = tuple[np.ndarray, int]


def test_mulaw_reference_codes() -> None:
    # ITU-T G.711 mu-law: 0 -> 0xFF, -1 -> 0x7F, full scale -> 0x80 / 0x00, which decode to +-32124
    codes = mulaw_encode(np.array([0, -1, 32767, -32768], dtype=np.int16))
    assert codes.tolist() == [0xFF, 0x7F, 0x80, 0x00]
    assert mulaw_decode(np.array([0xFF, 0x80, 0x00], dtype=np.uint8)).tolist() == [0, 32124, -32124]


def test_mulaw_round_trip_error_is_logarithmic() -> None:
    x = np.arange(-32768, 32768, dtype=np.int32).astype(np.int16)
    codes = mulaw_encode(x)
    assert len(np.unique(codes)) == 256
    y = mulaw_decode(codes).astype(np.int64)
    big = np.abs(x.astype(np.int64)) > 1000
    rel = np.abs(y[big] - x[big]) / np.abs(x[big])
    assert rel.max() < 0.035  # about 5 bits of mantissa: at most ~3% error
    assert np.abs(y - x.astype(np.int64))[~big].max() <= 32  # half a 64-step segment near 1000


def test_float_to_pcm_saturates() -> None:
    assert float_to_pcm16(np.array([2.0, -2.0, 0.5])).tolist() == [32767, -32768, 16384]


def test_to_telephone_rate_and_level(neutral_male: Audio) -> None:
    x, rate = neutral_male
    y = to_telephone(x, rate)
    assert y.dtype == np.float32
    assert abs(len(y) - len(x) * 8000 / rate) <= 2
    rms_in = np.sqrt(np.mean(x.astype(np.float64) ** 2))
    rms_out = np.sqrt(np.mean(y.astype(np.float64) ** 2))
    assert rms_out == np.float64(rms_out) and abs(20 * np.log10(rms_out / rms_in)) < 1.0
