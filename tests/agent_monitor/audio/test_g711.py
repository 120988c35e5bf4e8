"""G.711 codecs agree with libsndfile's on real speech."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from agent_monitor.audio.g711 import (
    alaw_decode,
    alaw_decode_l16,
    alaw_encode,
    mulaw_decode,
    mulaw_decode_l16,
    mulaw_encode,
)


@pytest.fixture(scope="module")
def digits_8k(eval_data: Path) -> Path:
    return eval_data / "speech/en/fsdd_8k_digits/3_george_0.wav"


def _speech(path: Path) -> np.ndarray:
    x, _ = sf.read(path, dtype="int16")
    return np.asarray(x, dtype=np.int16)


def _libsndfile_raw(x: np.ndarray, subtype: str) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, x, 8000, format="RAW", subtype=subtype)
    return buf.getvalue()


def test_mulaw_encode_matches_libsndfile(digits_8k: Path) -> None:
    x = _speech(digits_8k)
    assert mulaw_encode(x) == _libsndfile_raw(x, "ULAW")


def test_decoders_match_libsndfile(digits_8k: Path) -> None:
    x = _speech(digits_8k)
    for subtype, decode in (("ULAW", mulaw_decode), ("ALAW", alaw_decode)):
        data = _libsndfile_raw(x, subtype)
        ref, _ = sf.read(
            io.BytesIO(data), format="RAW", subtype=subtype, samplerate=8000, channels=1, dtype="int16"
        )
        assert np.array_equal(decode(data), ref)


def test_alaw_round_trip_is_close(digits_8k: Path) -> None:
    x = _speech(digits_8k)
    y = alaw_decode(alaw_encode(x))
    # G.711 keeps about 12 bits of precision for large samples: error below 1/32 of full scale
    assert np.max(np.abs(y.astype(int) - x.astype(int))) < 1024
    assert np.corrcoef(x, y)[0, 1] > 0.999


@pytest.mark.parametrize(
    ("to_l16", "to_array", "subtype"),
    [(mulaw_decode_l16, mulaw_decode, "ULAW"), (alaw_decode_l16, alaw_decode, "ALAW")],
    ids=["mulaw", "alaw"],
)
def test_decode_to_l16_bytes_equals_the_array_decoder(
    digits_8k: Path, to_l16: Callable[[bytes], bytes], to_array: Callable[[bytes], np.ndarray], subtype: str
) -> None:
    every_code = bytes(range(256))
    assert to_l16(every_code) == to_array(every_code).astype("<i2").tobytes()
    speech = _libsndfile_raw(_speech(digits_8k), subtype)
    ref, _ = sf.read(
        io.BytesIO(speech), samplerate=8000, channels=1, format="RAW", subtype=subtype, dtype="int16"
    )
    assert to_l16(speech) == np.asarray(ref, dtype="<i2").tobytes()
    assert to_l16(b"") == b""
