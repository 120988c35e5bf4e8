"""Decode audio files into per-leg 16-bit mono PCM at the pipeline's sample rate.

Supported: WAV (PCM, float, mu-law, A-law), FLAC, OGG/Vorbis and OGG/Opus via libsndfile, and raw
headerless audio (``.raw``/``.pcm`` little-endian 16-bit, ``.ulaw``/``.mulaw``/``.alaw`` G.711)
with an explicit :class:`RawFormat`. Any sample rate is resampled with soxr; stereo is split into
the agent and debtor legs. Every failure is an :class:`AudioDecodeError` or
:class:`AudioFormatError` naming the file and the problem.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from agent_monitor.errors import AudioDecodeError, AudioFormatError
from agent_monitor.model.audio import Leg

MIN_SAMPLE_RATE = 4000
MAX_SAMPLE_RATE = 384000
#: a larger file is refused before it is read: it was read whole into memory (a 20 GiB file
#: grew the process to 20 GB); 1 GiB is about 9 hours of 16 kHz 16-bit stereo WAV
MAX_FILE_BYTES = 1 << 30
RAW_SUFFIXES = {".raw": "s16le", ".pcm": "s16le", ".ulaw": "mulaw", ".mulaw": "mulaw", ".alaw": "alaw"}

Encoding = Literal["s16le", "mulaw", "alaw"]
FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class RawFormat:
    """How to read headerless audio."""

    sample_rate: int = 8000
    channels: int = 1
    encoding: Encoding = "mulaw"


@dataclass(frozen=True, slots=True)
class DecodedAudio:
    """Decoded audio: ``samples`` has shape (channels, frames), float32 in [-1, 1]."""

    source: str
    sample_rate: int
    samples: FloatArray
    original_rate: int
    format: str

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration(self) -> float:
        return self.samples.shape[1] / self.sample_rate


ChannelMap = dict[int, Leg]


def default_channel_map(channels: int, agent_channel: Literal["left", "right"]) -> ChannelMap:
    """Mono is one leg (the agent's unless told otherwise); stereo maps by ``agent_channel``."""
    if channels == 1:
        return {0: Leg.AGENT}
    if channels == 2:
        agent = 0 if agent_channel == "left" else 1
        return {agent: Leg.AGENT, 1 - agent: Leg.DEBTOR}
    raise ValueError(channels)


def decode_file(
    path: Path,
    *,
    target_rate: int | None,
    raw: RawFormat | None = None,
) -> DecodedAudio:
    """Read ``path`` and resample every channel to ``target_rate`` (``None``: keep the file's rate)."""
    source = str(path)
    data = _read_regular_file(path, source)
    suffix = path.suffix.lower()
    if raw is None and suffix in RAW_SUFFIXES:
        encoding: Encoding = RAW_SUFFIXES[suffix]  # type: ignore[assignment]
        raw = RawFormat(encoding=encoding, sample_rate=8000 if encoding != "s16le" else 16000)
    return decode_bytes(data, source=source, target_rate=target_rate, raw=raw)


def check_audio_file(path: Path, source: str) -> int:
    """The size of ``path``, an existing regular file of at most :data:`MAX_FILE_BYTES`;
    :class:`AudioDecodeError` otherwise (a FIFO waited forever for a writer, ``/dev/zero`` was
    read forever, a 20 GiB file was read whole into memory)."""
    if not path.exists():
        raise AudioDecodeError(source, "no such file")
    if path.is_dir():
        raise AudioDecodeError(source, "is a directory, not an audio file")
    if not path.is_file():
        raise AudioDecodeError(source, "not a regular file (a pipe or a device)")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise AudioDecodeError(source, f"cannot read file ({exc.strerror or exc})") from exc
    if size > MAX_FILE_BYTES:
        raise AudioDecodeError(
            source, f"file is {size / 2**20:.0f} MiB, more than the {MAX_FILE_BYTES >> 20} MiB allowed"
        )
    return size


def _read_regular_file(path: Path, source: str) -> bytes:
    check_audio_file(path, source)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise AudioDecodeError(source, f"cannot read file ({exc.strerror or exc})") from exc


def decode_bytes(
    data: bytes, *, source: str, target_rate: int | None, raw: RawFormat | None = None
) -> DecodedAudio:
    """Decode an in-memory file (or raw audio when ``raw`` is given); ``target_rate`` ``None``
    keeps the file's own rate."""
    if not data:
        raise AudioDecodeError(source, "file is empty")
    if raw is not None:
        samples, rate, fmt = _decode_raw(data, source, raw)
    else:
        samples, rate, fmt = _decode_container(data, source)
    if samples.shape[1] == 0:
        raise AudioDecodeError(source, "contains no audio samples")
    if not np.all(np.isfinite(samples)):
        raise AudioDecodeError(source, "contains invalid (NaN or infinite) samples")
    target_rate = target_rate or rate
    return DecodedAudio(
        source=source,
        sample_rate=target_rate,
        samples=resample(samples, rate, target_rate),
        original_rate=rate,
        format=fmt,
    )


def _check_rate(source: str, rate: int) -> None:
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise AudioFormatError(
            source, f"sample rate {rate} Hz is outside {MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz"
        )


def _decode_raw(data: bytes, source: str, raw: RawFormat) -> tuple[FloatArray, int, str]:
    from agent_monitor.audio.g711 import alaw_decode, mulaw_decode

    _check_rate(source, raw.sample_rate)
    if raw.channels < 1:
        raise AudioFormatError(source, f"invalid channel count {raw.channels}")
    if raw.encoding == "s16le":
        if len(data) % 2:
            raise AudioDecodeError(source, "truncated: odd number of bytes in 16-bit raw audio")
        ints = np.frombuffer(data, dtype="<i2")
    elif raw.encoding == "mulaw":
        ints = mulaw_decode(data)
    else:
        ints = alaw_decode(data)
    if len(ints) % raw.channels:
        raise AudioDecodeError(source, f"truncated: sample count not a multiple of {raw.channels} channels")
    frames = ints.reshape(-1, raw.channels).T.astype(np.float32) / 32768.0
    return np.ascontiguousarray(frames), raw.sample_rate, f"RAW {raw.encoding}"


def _wav_truncation(data: bytes) -> str | None:
    """For RIFF/WAVE data, say if the data chunk is shorter than its header declares."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    pos = 12
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if cid == b"data":
            have = len(data) - pos - 8
            if size != 0xFFFFFFFF and have < size:
                return f"truncated: WAV data chunk declares {size} bytes but only {have} are present"
            return None
        pos += 8 + size + (size & 1)
    return "truncated: WAV file has no data chunk"


def _ogg_truncation(data: bytes) -> str | None:
    """For Ogg data, say if the stream ends without an end-of-stream page (a cut file)."""
    if data[:4] != b"OggS":
        return None
    last = data.rfind(b"OggS")
    if last + 27 > len(data) or not data[last + 5] & 0x04:
        return "truncated: Ogg stream ends without its end-of-stream page"
    n_segments = data[last + 26]
    body = sum(data[last + 27 : last + 27 + n_segments])
    if last + 27 + n_segments + body > len(data):
        return "truncated: last Ogg page is incomplete"
    return None


def _decode_container(data: bytes, source: str) -> tuple[FloatArray, int, str]:
    import io

    import soundfile as sf

    problem = _wav_truncation(data) or _ogg_truncation(data)
    if problem:
        raise AudioDecodeError(source, problem)
    try:
        f = sf.SoundFile(io.BytesIO(data))
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioDecodeError(source, _open_problem(exc)) from exc
    with f:
        rate, declared = f.samplerate, f.frames
        fmt = f"{f.format} {f.subtype}"
        _check_rate(source, rate)
        try:
            samples = f.read(dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
            raise AudioDecodeError(source, f"audio data is corrupt or truncated ({_sf_reason(exc)})") from exc
    if declared > 0 and len(samples) < declared and fmt.startswith("FLAC"):
        raise AudioDecodeError(
            source, f"truncated: header declares {declared} frames but only {len(samples)} decode"
        )
    return np.ascontiguousarray(samples.T), rate, fmt


def _open_problem(exc: Exception) -> str:
    """Why libsndfile could not open in-memory data. Its words about the file system cannot be
    true of bytes in memory: they mean its decoder gave up on the stream (an MP3 cut short said
    "File does not exist or is not a regular file (possibly a pipe?)")."""
    reason = _sf_reason(exc)
    if "regular file" in reason or "does not exist" in reason:
        return "audio data is corrupt or truncated (the decoder cannot open the stream)"
    return f"not a readable audio file ({reason})"


def _sf_reason(exc: Exception) -> str:
    text = str(exc).split(":")[-1].strip()
    return text or "unknown format"


def resample(samples: FloatArray, from_rate: int, to_rate: int) -> FloatArray:
    """High-quality resampling (soxr) of a (channels, frames) array."""
    if from_rate == to_rate:
        return samples.astype(np.float32, copy=False)
    import soxr

    out = soxr.resample(samples.T, from_rate, to_rate, quality="HQ")
    out2d = out.reshape(len(out), -1) if out.ndim == 1 else out
    return np.ascontiguousarray(out2d.T, dtype=np.float32)


def resample_mono(samples: FloatArray, from_rate: int, to_rate: int) -> FloatArray:
    """:func:`resample` of one channel (a 1-D array)."""
    if from_rate == to_rate:
        return samples
    return resample(samples[None, :], from_rate, to_rate)[0]


def split_legs(
    audio: DecodedAudio, channel_map: ChannelMap | None, agent_channel: Literal["left", "right"]
) -> dict[Leg, bytes]:
    """Split decoded audio into legs of 16-bit PCM.

    More than two channels need an explicit ``channel_map`` (channel index -> leg).
    """
    if channel_map is None:
        if audio.channels > 2:
            raise AudioFormatError(
                audio.source,
                f"{audio.channels} channels and no channel mapping; "
                "say which channel is which leg (e.g. --channel-map 0=agent,1=debtor)",
            )
        channel_map = default_channel_map(audio.channels, agent_channel)
    legs: dict[Leg, bytes] = {}
    for index, leg in sorted(channel_map.items()):
        if not 0 <= index < audio.channels:
            raise AudioFormatError(audio.source, f"channel {index} mapped to {leg} does not exist")
        if leg in legs:
            raise AudioFormatError(audio.source, f"two channels mapped to the {leg} leg")
        legs[leg] = float_to_pcm16(audio.samples[index])
    return legs


def float_to_pcm16(x: FloatArray) -> bytes:
    """Float [-1, 1] samples to 16-bit little-endian PCM (clipped)."""
    return (np.clip(x, -1.0, 32767 / 32768) * 32768.0).astype("<i2").tobytes()


def pcm16_to_float(pcm: bytes) -> FloatArray:
    """16-bit little-endian PCM to float32 in [-1, 1]."""
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def parse_channel_map(text: str) -> ChannelMap:
    """Parse ``"0=agent,1=debtor"``."""
    result: ChannelMap = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        index, _, leg = part.partition("=")
        try:
            channel, named = int(index), Leg(leg.strip().lower())
        except ValueError as exc:
            raise AudioFormatError(
                "--channel-map", f"cannot parse {part!r}; use e.g. 0=agent,1=debtor"
            ) from exc
        if channel < 0 or channel in result:
            said = "is negative" if channel < 0 else "is mapped twice"
            raise AudioFormatError("--channel-map", f"channel {channel} {said}; use e.g. 0=agent,1=debtor")
        result[channel] = named
    if not result:
        raise AudioFormatError("--channel-map", "empty channel mapping")
    return result
