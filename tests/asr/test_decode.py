"""Decoding real recordings, resampling and every kind of bad input."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from agent_monitor.audio.decode import (
    RawFormat,
    decode_bytes,
    decode_file,
    parse_channel_map,
    pcm16_to_float,
    split_legs,
)
from agent_monitor.audio.g711 import mulaw_encode
from agent_monitor.errors import AudioDecodeError, AudioFormatError
from agent_monitor.model.audio import Leg


def test_flac_16k(librispeech_flac: Path) -> None:
    a = decode_file(librispeech_flac, target_rate=16000)
    assert a.channels == 1 and a.original_rate == 16000
    assert 10.0 < a.duration < 11.0
    assert a.format.startswith("FLAC")


def test_stereo_opus_8k_splits_into_two_legs(call_opus: Path) -> None:
    a = decode_file(call_opus, target_rate=16000)
    assert a.original_rate == 8000 and a.channels == 2
    assert 182 < a.duration < 183.5
    legs = split_legs(a, None, "left")
    assert set(legs) == {Leg.AGENT, Leg.DEBTOR}
    left = pcm16_to_float(legs[Leg.AGENT])
    assert np.allclose(left, a.samples[0], atol=1 / 32768)
    swapped = split_legs(a, None, "right")
    assert swapped[Leg.AGENT] == legs[Leg.DEBTOR]


def test_8k_wav_upsampled_without_images(digits_8k: Path) -> None:
    """A real resampler leaves (almost) nothing above the original Nyquist frequency."""
    a = decode_file(digits_8k, target_rate=16000)
    spectrum = np.abs(np.fft.rfft(a.samples[0])) ** 2
    freqs = np.fft.rfftfreq(a.samples.shape[1], 1 / 16000)
    above = spectrum[freqs > 4100].sum() / spectrum.sum()
    assert above < 1e-4


def test_downsampling_removes_content_above_nyquist(eval_data: Path, tmp_path: Path) -> None:
    """12 kHz added to a real 48 kHz recording must not alias into the 16 kHz output."""
    x, rate = sf.read(eval_data / "emotion/ravdess/03-01-01-01-01-01-01.wav", dtype="float32")
    t = np.arange(len(x)) / rate
    path = tmp_path / "tone.wav"
    sf.write(path, 0.5 * x + 0.3 * np.sin(2 * np.pi * 12000 * t), rate)
    a = decode_file(path, target_rate=16000)
    spectrum = np.abs(np.fft.rfft(a.samples[0])) ** 2
    freqs = np.fft.rfftfreq(a.samples.shape[1], 1 / 16000)
    alias = spectrum[(freqs > 3950) & (freqs < 4050)].sum() / spectrum.sum()
    assert alias < 1e-3  # naive decimation would fold the tone to 4 kHz with ~25% of the energy


@pytest.mark.parametrize("subtype", ["ULAW", "ALAW"])
def test_g711_wav(digits_8k: Path, tmp_path: Path, subtype: str) -> None:
    x, rate = sf.read(digits_8k, dtype="float32")
    path = tmp_path / f"{subtype}.wav"
    sf.write(path, x, rate, subtype=subtype)
    a = decode_file(path, target_rate=8000)
    assert subtype in a.format
    assert np.corrcoef(a.samples[0], x)[0, 1] > 0.99


def test_raw_mulaw_by_suffix_and_explicit(digits_8k: Path, tmp_path: Path) -> None:
    x, _ = sf.read(digits_8k, dtype="int16")
    path = tmp_path / "call.ulaw"
    path.write_bytes(mulaw_encode(x))
    a = decode_file(path, target_rate=8000)
    assert a.format == "RAW mulaw" and a.samples.shape[1] == len(x)
    other = tmp_path / "call.bin"
    other.write_bytes(mulaw_encode(x))
    b = decode_file(other, target_rate=8000, raw=RawFormat(8000, 1, "mulaw"))
    assert np.array_equal(a.samples, b.samples)


def _wav_header(rate: int, channels: int, data_len: int) -> bytes:
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data_len)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * channels * 2, channels * 2, 16)
        + b"data"
        + struct.pack("<I", data_len)
    )


def test_not_audio(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("this is not audio\n" * 20)
    with pytest.raises(AudioDecodeError, match=r"notes\.wav: not a readable audio file"):
        decode_file(path, target_rate=16000)


def test_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioDecodeError, match="file is empty"):
        decode_file(path, target_rate=16000)


def test_header_only(tmp_path: Path) -> None:
    path = tmp_path / "nodata.wav"
    path.write_bytes(_wav_header(16000, 1, 0))
    with pytest.raises(AudioDecodeError, match="no audio samples"):
        decode_file(path, target_rate=16000)


def test_truncated_wav(digits_8k: Path, tmp_path: Path) -> None:
    data = digits_8k.read_bytes()
    path = tmp_path / "cut.wav"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioDecodeError, match="truncated: WAV data chunk declares"):
        decode_file(path, target_rate=16000)


def test_truncated_flac(librispeech_flac: Path, tmp_path: Path) -> None:
    data = librispeech_flac.read_bytes()
    path = tmp_path / "cut.flac"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioDecodeError, match=r"cut\.flac: .*(truncated|corrupt)"):
        decode_file(path, target_rate=16000)


def test_absurd_sample_rate(tmp_path: Path) -> None:
    path = tmp_path / "fast.wav"
    path.write_bytes(_wav_header(1_000_000, 1, 2000) + b"\x01\x00" * 1000)
    with pytest.raises(AudioFormatError, match="sample rate 1000000 Hz is outside"):
        decode_file(path, target_rate=16000)
    with pytest.raises(AudioFormatError, match="sample rate 100 Hz"):
        decode_bytes(b"\x00" * 100, source="x.raw", target_rate=16000, raw=RawFormat(100, 1, "s16le"))


def test_more_than_two_channels_needs_a_mapping(digits_8k: Path, tmp_path: Path) -> None:
    x, rate = sf.read(digits_8k, dtype="float32")
    path = tmp_path / "four.wav"
    sf.write(path, np.stack([x, x * 0.5, x * 0.25, x * 0.1], axis=1), rate)
    a = decode_file(path, target_rate=16000)
    with pytest.raises(AudioFormatError, match="4 channels and no channel mapping"):
        split_legs(a, None, "left")
    legs = split_legs(a, parse_channel_map("2=agent,0=debtor"), "left")
    assert np.abs(pcm16_to_float(legs[Leg.AGENT])).max() < np.abs(pcm16_to_float(legs[Leg.DEBTOR])).max()
    with pytest.raises(AudioFormatError, match="channel 7 mapped to agent does not exist"):
        split_legs(a, {7: Leg.AGENT}, "left")


def test_unreadable_paths(tmp_path: Path) -> None:
    with pytest.raises(AudioDecodeError, match="no such file"):
        decode_file(tmp_path / "missing.wav", target_rate=16000)
    with pytest.raises(AudioDecodeError, match="is a directory"):
        decode_file(tmp_path, target_rate=16000)


def test_raw_odd_bytes() -> None:
    with pytest.raises(AudioDecodeError, match="odd number of bytes"):
        decode_bytes(b"\x00\x01\x02", source="x.raw", target_rate=16000, raw=RawFormat(16000, 1, "s16le"))


def test_channel_map_parse_errors() -> None:
    with pytest.raises(AudioFormatError, match="cannot parse"):
        parse_channel_map("0=boss")
    assert parse_channel_map("0=agent, 1=DEBTOR") == {0: Leg.AGENT, 1: Leg.DEBTOR}
    # one channel given two legs (the last one won) and a negative channel are refused
    with pytest.raises(AudioFormatError, match="channel 0 is mapped twice"):
        parse_channel_map("0=agent,0=debtor")
    with pytest.raises(AudioFormatError, match="channel -1 is negative"):
        parse_channel_map("-1=agent")


def test_wav_in_memory_round_trip(digits_8k: Path) -> None:
    x, rate = sf.read(digits_8k, dtype="float32")
    buf = io.BytesIO()
    sf.write(buf, x, rate, format="WAV")
    a = decode_bytes(buf.getvalue(), source="mem.wav", target_rate=rate)
    assert np.allclose(a.samples[0], x, atol=1e-4)


def test_truncated_ogg_opus(call_opus: Path, tmp_path: Path) -> None:
    data = call_opus.read_bytes()
    path = tmp_path / "cut.opus"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioDecodeError, match=r"truncated: .*Ogg"):
        decode_file(path, target_rate=16000)


def test_a_fifo_or_a_device_is_refused_without_waiting(tmp_path: Path) -> None:
    """A FIFO given as a recording waited forever for a writer and ``/dev/zero`` was read until
    memory ran out (`transcribe`, `analyze`, `replay`); both are refused at once."""
    import os
    import threading

    fifo = tmp_path / "call.wav"
    os.mkfifo(fifo)
    errors: list[BaseException] = []

    def decode(path: Path) -> None:
        try:
            decode_file(path, target_rate=16000)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    for path in (fifo, Path("/dev/zero")):
        worker = threading.Thread(target=decode, args=(path,), daemon=True)
        worker.start()
        worker.join(5.0)
        if worker.is_alive():  # the old code: release the reader before failing
            if path == fifo:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            pytest.fail(f"decoding {path} did not return")
    assert [str(e) for e in errors] == [
        f"{fifo}: not a regular file (a pipe or a device)",
        "/dev/zero: not a regular file (a pipe or a device)",
    ]
    assert all(isinstance(e, AudioDecodeError) for e in errors)


def test_a_file_larger_than_the_limit_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file was read whole into memory: a 20 GiB (sparse) WAV grew `transcribe` to 20 GB RSS."""
    from agent_monitor.audio import decode

    path = tmp_path / "big.wav"
    sf.write(path, np.zeros(3 << 19, dtype=np.float32), 16000, subtype="PCM_16")  # 3 MiB
    monkeypatch.setattr(decode, "MAX_FILE_BYTES", 1 << 20, raising=False)
    with pytest.raises(AudioDecodeError, match=r"big\.wav: file is 3 MiB, more than the 1 MiB allowed"):
        decode_file(path, target_rate=16000)
    monkeypatch.undo()
    assert decode.MAX_FILE_BYTES == 1 << 30
    assert decode_file(path, target_rate=16000).duration == (3 << 19) / 16000


def test_a_cut_mp3_is_named_corrupt_or_truncated_not_a_missing_file(digits_8k: Path, tmp_path: Path) -> None:
    """An MP3 of a real clip cut to its first 400 bytes said "not a readable audio file (File does
    not exist or is not a regular file (possibly a pipe?).)" of a file that exists; libsndfile
    says that of in-memory data its MP3 decoder gave up on."""
    x, rate = sf.read(digits_8k, dtype="float32")
    buf = io.BytesIO()
    sf.write(buf, x, rate, format="MP3")
    path = tmp_path / "cut.mp3"
    path.write_bytes(buf.getvalue()[:400])
    with pytest.raises(AudioDecodeError) as err:
        decode_file(path, target_rate=16000)
    assert (
        str(err.value) == f"{path}: audio data is corrupt or truncated (the decoder cannot open the stream)"
    )
