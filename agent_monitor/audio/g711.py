"""G.711 mu-law and A-law codecs (ITU-T G.711) over numpy arrays.

Used for raw telephone audio and for the Twilio/FreeSWITCH ingest paths. ``audioop`` is gone from
Python 3.13, so the codec lives here.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

_MULAW_BIAS = 0x84
_MULAW_CLIP = 32635


def _mulaw_decode_table() -> npt.NDArray[np.int16]:
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = u & 0x80
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = (((mantissa << 3) + _MULAW_BIAS) << exponent) - _MULAW_BIAS
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


def _alaw_decode_table() -> npt.NDArray[np.int16]:
    a = np.arange(256, dtype=np.int32) ^ 0x55
    sign = a & 0x80
    exponent = (a >> 4) & 0x07
    mantissa = a & 0x0F
    magnitude = np.where(
        exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0)
    )
    return np.where(sign != 0, magnitude, -magnitude).astype(np.int16)


_MULAW_TABLE = _mulaw_decode_table()
_ALAW_TABLE = _alaw_decode_table()


def _byte_tables(table: npt.NDArray[np.int16]) -> tuple[bytes, bytes]:
    """The low and the high byte of each code's 16-bit little-endian sample (``bytes.translate``)."""
    words = table.view(np.uint16)
    return (words & 0xFF).astype(np.uint8).tobytes(), (words >> 8).astype(np.uint8).tobytes()


_MULAW_BYTES = _byte_tables(_MULAW_TABLE)
_ALAW_BYTES = _byte_tables(_ALAW_TABLE)


def _to_l16(data: bytes, tables: tuple[bytes, bytes]) -> bytes:
    out = bytearray(2 * len(data))
    out[0::2] = data.translate(tables[0])
    out[1::2] = data.translate(tables[1])
    return bytes(out)


def mulaw_decode(data: bytes) -> npt.NDArray[np.int16]:
    """Decode G.711 mu-law bytes to 16-bit linear PCM samples."""
    return _MULAW_TABLE[np.frombuffer(data, dtype=np.uint8)]


def mulaw_decode_l16(data: bytes) -> bytes:
    """Decode G.711 mu-law bytes to 16-bit little-endian PCM bytes (the same samples as
    :func:`mulaw_decode`; two byte translations, no array: cheap for one 20 ms frame)."""
    return _to_l16(data, _MULAW_BYTES)


def alaw_decode(data: bytes) -> npt.NDArray[np.int16]:
    """Decode G.711 A-law bytes to 16-bit linear PCM samples."""
    return _ALAW_TABLE[np.frombuffer(data, dtype=np.uint8)]


def alaw_decode_l16(data: bytes) -> bytes:
    """Decode G.711 A-law bytes to 16-bit little-endian PCM bytes (as :func:`mulaw_decode_l16`)."""
    return _to_l16(data, _ALAW_BYTES)


def mulaw_encode(samples: npt.NDArray[np.int16]) -> bytes:
    """Encode 16-bit linear PCM samples to G.711 mu-law bytes."""
    x = samples.astype(np.int32)
    sign = np.where(x < 0, 0x80, 0)
    mag = np.minimum(np.abs(x), _MULAW_CLIP) + _MULAW_BIAS
    exponent = np.floor(np.log2(mag)).astype(np.int32) - 7
    exponent = np.clip(exponent, 0, 7)
    mantissa = (mag >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()


def alaw_encode(samples: npt.NDArray[np.int16]) -> bytes:
    """Encode 16-bit linear PCM samples to G.711 A-law bytes."""
    x = samples.astype(np.int32)
    sign = np.where(x >= 0, 0x80, 0)
    mag = np.minimum(np.where(x >= 0, x, -x - 1), 32767) >> 3
    exponent = np.where(mag >= 32, np.floor(np.log2(np.maximum(mag, 1))).astype(np.int32) - 4, 0)
    exponent = np.clip(exponent, 0, 7)
    mantissa = np.where(exponent == 0, mag >> 1, mag >> exponent) & 0x0F
    return ((sign | (exponent << 4) | mantissa) ^ 0x55).astype(np.uint8).tobytes()
