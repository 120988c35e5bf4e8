"""Telephone-channel simulation: resampling to 8 kHz and ITU-T G.711 mu-law coding.

The codec is the standard G.711 mu-law (bias 0x84, clip 32635, 8 segments), vectorised in numpy
(``audioop`` is deprecated and gone in Python 3.13). Resampling uses soxr.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

TELEPHONE_RATE = 8000
_BIAS = 0x84
_CLIP = 32635


def mulaw_encode(pcm16: npt.NDArray[np.integer]) -> npt.NDArray[np.uint8]:
    """Encode 16-bit linear PCM to G.711 mu-law bytes."""
    x = np.asarray(pcm16, dtype=np.int32)
    sign = np.where(x < 0, 0x80, 0x00)
    mag = np.minimum(np.abs(x), _CLIP) + _BIAS
    # segment = position of the highest set bit of (mag >> 7), 0..7
    exponent = np.floor(np.log2(np.maximum(mag >> 7, 1))).astype(np.int32)
    exponent = np.clip(exponent, 0, 7)
    mantissa = (mag >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8)


def mulaw_decode(codes: npt.NDArray[np.uint8]) -> npt.NDArray[np.int16]:
    """Decode G.711 mu-law bytes to 16-bit linear PCM."""
    u = ~np.asarray(codes, dtype=np.int32) & 0xFF
    sign = u & 0x80
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    mag = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return np.where(sign != 0, -mag, mag).astype(np.int16)


def float_to_pcm16(x: npt.NDArray[np.floating]) -> npt.NDArray[np.int16]:
    """Float samples in [-1, 1] to 16-bit PCM, saturating (never wrapping) out-of-range values."""
    return np.clip(np.round(np.asarray(x, dtype=np.float64) * 32768.0), -32768, 32767).astype(np.int16)


def to_telephone(x: npt.NDArray[np.floating], sample_rate: int) -> npt.NDArray[np.float32]:
    """Simulate a G.711 mu-law phone line: resample to 8 kHz, encode, decode; float32 out."""
    import soxr

    y = np.asarray(x, dtype=np.float32)
    if sample_rate != TELEPHONE_RATE:
        y = soxr.resample(y, sample_rate, TELEPHONE_RATE, quality="HQ").astype(np.float32)
    decoded = mulaw_decode(mulaw_encode(float_to_pcm16(y)))
    return (decoded.astype(np.float32) / 32768.0).astype(np.float32)
