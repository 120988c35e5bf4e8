"""Per-leg call recordings: 16-bit PCM mono WAV files written as the audio arrives.

:class:`RecordingWriter` appends audio with ``os.pwrite`` and, at least every ``flush_interval_s``
seconds of audio (0.5 s by default), hands the buffered audio to the operating system and
rewrites the two size fields of the WAV header. If the process dies (even ``kill -9``) the file
holds everything up to the last flush and is a valid WAV whose header covers all of it but the
audio after the last header update; :func:`read_recording` reads the audio to the end of the file
whatever the header says, so at most ``flush_interval_s`` of audio is lost. ``fsync`` on every
flush additionally protects against power loss (off by default; ``close`` always syncs).

On :meth:`RecordingWriter.close` the header is final and the sha256 of the whole file is
computed by reading it back, so the checksum is of what is on disk.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from agent_monitor.errors import RecordingError
from agent_monitor.model.audio import BYTES_PER_SAMPLE, Leg

HEADER_BYTES = 44
#: the largest data chunk a RIFF header can describe
MAX_DATA_BYTES = 0xFFFFFFFF - 36
_CHUNK = 1 << 20


def wav_header(sample_rate: int, data_bytes: int) -> bytes:
    """The 44-byte header of a mono 16-bit PCM WAV file holding ``data_bytes`` of audio."""
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + data_bytes,
        b"WAVE",
        b"fmt ",
        16,
        1,  # PCM
        1,  # mono
        sample_rate,
        sample_rate * BYTES_PER_SAMPLE,
        BYTES_PER_SAMPLE,
        8 * BYTES_PER_SAMPLE,
        b"data",
        data_bytes,
    )


def recording_key(call_id: str) -> str:
    """The folder name of a call's recordings: a readable prefix of the call id plus the first
    128 bits of the sha256 of the exact call id, always. Two different call ids never share a
    folder (``victim call 1`` and ``victim_call_1`` differ in their hash even though their
    readable prefixes are equal), whatever characters the client chose."""
    readable = re.sub(r"[^A-Za-z0-9._-]", "_", call_id).lstrip(".")[:40] or "call"
    return f"{readable}-{hashlib.sha256(call_id.encode('utf-8')).hexdigest()[:32]}"


def recording_path(data_dir: Path, call_id: str, leg: Leg) -> Path:
    """Where a leg's recording lives: ``data_dir/recordings/<recording_key(call id)>/<leg>.wav``."""
    return data_dir / "recordings" / recording_key(call_id) / f"{Leg(leg).value}.wav"


def locate_recording(data_dir: Path, call_id: str, leg: Leg, stored_path: str | None) -> Path:
    """The file of a stored recording: where this version writes it, or else the path its row
    holds (recordings written before folder names carried the call id's hash)."""
    current = recording_path(data_dir, call_id, leg)
    if stored_path and not current.exists():
        stored = Path(stored_path)
        stored = stored if stored.is_absolute() else data_dir / stored
        if stored.is_file():
            return stored
    return current


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class RecordingInfo:
    """A closed recording: what the ``recordings`` table stores."""

    path: Path
    sample_rate: int
    bytes_written: int
    samples_written: int
    sha256: str

    @property
    def duration(self) -> float:
        return self.samples_written / self.sample_rate


class RecordingWriter:
    """Writes one leg's audio to a WAV file as it arrives (see the module documentation).

    ``resume=True`` continues an existing recording (a call resumed after a restart) after
    repairing its header; without it an existing file is an error, never overwritten.
    """

    def __init__(
        self,
        path: Path,
        sample_rate: int,
        *,
        flush_interval_s: float = 0.5,
        resume: bool = False,
        fsync: bool = False,
    ) -> None:
        if not 1000 <= sample_rate <= 192_000:
            raise RecordingError(f"{path}: unusable sample rate {sample_rate}")
        if flush_interval_s <= 0:
            raise RecordingError(f"{path}: flush interval must be positive")
        self.path = Path(path)
        self.sample_rate = sample_rate
        self.flush_interval_s = flush_interval_s
        self._fsync = fsync
        self._flush_bytes = max(BYTES_PER_SAMPLE, int(flush_interval_s * sample_rate) * BYTES_PER_SAMPLE)
        self._buffer = bytearray()
        self._data_bytes = 0  # audio bytes on disk
        self._last_flush = time.monotonic()
        self._closed = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if resume and self.path.exists():
                self._fd = os.open(self.path, os.O_RDWR)
                self._data_bytes = self._resume()
            else:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o640)
                os.pwrite(self._fd, wav_header(sample_rate, 0), 0)
        except FileExistsError:
            raise RecordingError(
                f"{self.path}: recording already exists (resume it or choose another path)"
            ) from None
        except OSError as exc:
            raise RecordingError(f"{self.path}: cannot open recording: {exc.strerror or exc}") from exc

    def _resume(self) -> int:
        info = _parse_header(self.path, os.pread(self._fd, HEADER_BYTES, 0), os.fstat(self._fd).st_size)
        if info.sample_rate != self.sample_rate or info.data_offset != HEADER_BYTES:
            os.close(self._fd)
            raise RecordingError(
                f"{self.path}: cannot resume a recording at {info.sample_rate} Hz as {self.sample_rate} Hz"
            )
        data = info.available_bytes - info.available_bytes % BYTES_PER_SAMPLE
        os.ftruncate(self._fd, HEADER_BYTES + data)
        os.pwrite(self._fd, wav_header(self.sample_rate, data), 0)
        return data

    # --- writing -------------------------------------------------------------------------------
    @property
    def bytes_written(self) -> int:
        """Audio bytes accepted so far (whole samples), flushed or not."""
        total = self._data_bytes + len(self._buffer)
        return total - total % BYTES_PER_SAMPLE

    @property
    def samples_written(self) -> int:
        return self.bytes_written // BYTES_PER_SAMPLE

    @property
    def duration(self) -> float:
        return self.samples_written / self.sample_rate

    def write(self, pcm: bytes) -> None:
        """Append 16-bit little-endian mono PCM; flushes when enough audio or time has gathered."""
        if self._closed:
            raise RecordingError(f"{self.path}: recording is closed")
        self._buffer += pcm
        if (
            len(self._buffer) >= self._flush_bytes
            or time.monotonic() - self._last_flush >= self.flush_interval_s
        ):
            self.flush()

    def flush(self) -> None:
        """Write the buffered whole samples to the file and update the header's sizes."""
        if self._closed:
            return
        n = len(self._buffer) - len(self._buffer) % BYTES_PER_SAMPLE
        if self._data_bytes + n > MAX_DATA_BYTES:
            raise RecordingError(f"{self.path}: recording exceeds the 4 GiB limit of a WAV file")
        try:
            if n:
                view = memoryview(self._buffer)[:n]
                offset = HEADER_BYTES + self._data_bytes
                while view:
                    done = os.pwrite(self._fd, view, offset)
                    view, offset = view[done:], offset + done
                view.release()
                del self._buffer[:n]
                self._data_bytes += n
                # the header from its first size field to its last (the fields between are constant):
                # one system call instead of two per flush
                os.pwrite(self._fd, wav_header(self.sample_rate, self._data_bytes)[4:], 4)
            if self._fsync:
                os.fsync(self._fd)
        except OSError as exc:
            raise RecordingError(f"{self.path}: cannot write recording: {exc.strerror or exc}") from exc
        self._last_flush = time.monotonic()

    def close(self) -> RecordingInfo:
        """Flush, finalise the header, sync to disk and return the size and sha256.

        A trailing odd byte (half a sample) is dropped."""
        if self._closed:
            raise RecordingError(f"{self.path}: recording is already closed")
        try:
            self.flush()
            os.pwrite(self._fd, wav_header(self.sample_rate, self._data_bytes), 0)
            os.fsync(self._fd)
        finally:
            self._closed = True
            os.close(self._fd)
        return RecordingInfo(
            path=self.path,
            sample_rate=self.sample_rate,
            bytes_written=self._data_bytes,
            samples_written=self._data_bytes // BYTES_PER_SAMPLE,
            sha256=file_sha256(self.path),
        )

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._closed:
            self.close()


# --- reading -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Header:
    sample_rate: int
    data_offset: int
    declared_bytes: int
    available_bytes: int


@dataclass(frozen=True, slots=True)
class RecordedAudio:
    """Audio read back from a recording. ``header_complete`` is False when the header did not
    cover all audio in the file (the writer died before closing it)."""

    pcm: bytes
    sample_rate: int
    start: float
    header_complete: bool

    @property
    def n_samples(self) -> int:
        return len(self.pcm) // BYTES_PER_SAMPLE

    @property
    def duration(self) -> float:
        return self.n_samples / self.sample_rate


def _parse_header(path: Path, head: bytes, file_size: int) -> _Header:
    """Parse a WAV header, finding the ``fmt `` and ``data`` chunks."""
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise RecordingError(f"{path}: not a WAV recording")
    with path.open("rb") as f:
        pos, fmt = 12, None
        while True:
            f.seek(pos)
            chunk = f.read(8)
            if len(chunk) < 8:
                raise RecordingError(f"{path}: WAV file has no data chunk")
            cid, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if cid == b"fmt ":
                fmt = f.read(16)
            elif cid == b"data":
                if fmt is None or len(fmt) < 16:
                    raise RecordingError(f"{path}: WAV data chunk before its format chunk")
                tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", fmt)
                if tag != 1 or channels != 1 or bits != 16:
                    raise RecordingError(
                        f"{path}: not 16-bit mono PCM (format {tag}, {channels} channels, {bits} bits)"
                    )
                offset = pos + 8
                return _Header(rate, offset, size, max(0, file_size - offset))
            pos += 8 + size + (size & 1)


def read_recording(path: Path, *, start_s: float = 0.0, end_s: float | None = None) -> RecordedAudio:
    """The PCM of a recording (or of ``start_s``..``end_s`` of it) without modifying the file.

    Reads to the end of the file even when the header is stale (a writer that died), so a crashed
    recording replays everything that reached the disk."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(HEADER_BYTES)
        info = _parse_header(path, head, size)
        total = info.available_bytes - info.available_bytes % BYTES_PER_SAMPLE
        first = min(total, max(0, round(start_s * info.sample_rate)) * BYTES_PER_SAMPLE)
        last = total if end_s is None else min(total, round(end_s * info.sample_rate) * BYTES_PER_SAMPLE)
        with path.open("rb") as f:
            f.seek(info.data_offset + first)
            pcm = f.read(max(0, last - first))
    except OSError as exc:
        raise RecordingError(f"{path}: cannot read recording: {exc.strerror or exc}") from exc
    return RecordedAudio(
        pcm=pcm,
        sample_rate=info.sample_rate,
        start=first / BYTES_PER_SAMPLE / info.sample_rate,
        header_complete=info.declared_bytes == info.available_bytes,
    )


def repair_recording(path: Path) -> int:
    """Make the header of a recording left open by a crash describe all of its audio (dropping a
    trailing half sample). Returns the audio bytes it now holds."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError as exc:
        raise RecordingError(f"{path}: cannot open recording: {exc.strerror or exc}") from exc
    try:
        info = _parse_header(path, os.pread(fd, HEADER_BYTES, 0), os.fstat(fd).st_size)
        if info.data_offset != HEADER_BYTES:
            raise RecordingError(f"{path}: not a recording written by Agent Monitor")
        data = info.available_bytes - info.available_bytes % BYTES_PER_SAMPLE
        os.ftruncate(fd, HEADER_BYTES + data)
        os.pwrite(fd, wav_header(info.sample_rate, data), 0)
        os.fsync(fd)
        return data
    finally:
        os.close(fd)
