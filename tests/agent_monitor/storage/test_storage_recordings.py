"""Per-leg WAV recordings: written as audio arrives, readable after a crash, checksummed."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from agent_monitor.errors import RecordingError
from agent_monitor.model.audio import Leg
from agent_monitor.storage.recordings import (
    HEADER_BYTES,
    RecordingWriter,
    locate_recording,
    read_recording,
    recording_path,
    repair_recording,
)

RATE = 16000


def _signal(n: int, offset: int = 0) -> np.ndarray:
    """A deterministic, non-repeating-looking int16 test signal (sample i is a function of i)."""
    i = np.arange(offset, offset + n, dtype=np.int64)
    return (((i * 7919) % 65521) - 32760).astype("<i2")


def test_write_close_read_roundtrip(tmp_path: Path) -> None:
    pcm = _signal(RATE * 3).tobytes()
    path = recording_path(tmp_path, "call-1", Leg.AGENT)
    assert path.parent.parent == tmp_path / "recordings" and path.name == "agent.wav"
    assert path.parent.name.startswith("call-1-")
    with RecordingWriter(path, RATE) as writer:
        for k in range(0, len(pcm), 641):  # odd-sized chunks split samples across writes
            writer.write(pcm[k : k + 641])
        assert writer.samples_written == RATE * 3
    audio = read_recording(path)
    assert audio.pcm == pcm and audio.sample_rate == RATE and audio.header_complete
    assert audio.duration == 3.0
    data, rate = sf.read(path, dtype="int16")  # an independent WAV reader agrees
    assert rate == RATE and data.tobytes() == pcm
    # a part of it, for replay from a point
    part = read_recording(path, start_s=1.0, end_s=1.5)
    assert part.pcm == pcm[RATE * 2 : RATE * 3] and part.start == 1.0


def test_recording_folders_of_different_call_ids_never_collide(tmp_path: Path) -> None:
    """Issue #15 item 3: a call id must not be able to name another call's folder, neither by
    differing only in characters that are unsafe in file names nor by spelling out the folder
    name another id was rewritten to."""
    victim = "victim call 26486"
    victim_path = recording_path(tmp_path, victim, Leg.AGENT)
    attackers = [
        "victim_call_26486",
        victim_path.parent.name,  # the folder name itself, as a call id
        "victim/call/26486",
        "victim call 26486 ",
        ".victim call 26486",
    ]
    paths = {recording_path(tmp_path, c, Leg.AGENT) for c in [victim, *attackers]}
    assert len(paths) == 1 + len(attackers)
    # the same id always maps to the same place (a resumed call finds its recording)
    assert recording_path(tmp_path, victim, Leg.AGENT) == victim_path
    # a second call writing its recording cannot append to the victim's file
    with RecordingWriter(victim_path, RATE) as w:
        w.write(_signal(RATE).tobytes())
    other = recording_path(tmp_path, victim_path.parent.name, Leg.AGENT)
    with RecordingWriter(other, RATE, resume=True) as w:
        w.write(_signal(RATE, 5).tobytes())
    assert read_recording(victim_path).pcm == _signal(RATE).tobytes()


def test_close_reports_size_and_checksum_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "x.wav"
    writer = RecordingWriter(path, 8000)
    writer.write(_signal(8001).tobytes() + b"\x01")  # a trailing half sample is dropped
    info = writer.close()
    assert (info.sample_rate, info.samples_written, info.bytes_written) == (8000, 8001, 16002)
    assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert path.stat().st_size == HEADER_BYTES + 16002
    with pytest.raises(RecordingError, match="closed"):
        writer.write(b"\x00\x00")
    with pytest.raises(RecordingError, match="already exists"):
        RecordingWriter(path, 8000)  # evidence is never overwritten


def test_resume_continues_a_recording(tmp_path: Path) -> None:
    path = tmp_path / "leg.wav"
    first, second = _signal(RATE), _signal(RATE // 2, offset=RATE)
    with RecordingWriter(path, RATE) as w:
        w.write(first.tobytes())
    with RecordingWriter(path, RATE, resume=True) as w:
        assert w.samples_written == RATE
        w.write(second.tobytes())
    assert read_recording(path).pcm == first.tobytes() + second.tobytes()
    with pytest.raises(RecordingError, match="8000 Hz"):
        RecordingWriter(path, 8000, resume=True)


def test_unusable_files_give_one_line_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"this is not audio at all, not even close")
    with pytest.raises(RecordingError, match="not a WAV"):
        read_recording(bad)
    with pytest.raises(RecordingError, match="cannot read"):
        read_recording(tmp_path / "missing.wav")
    stereo = tmp_path / "stereo.wav"
    sf.write(stereo, np.zeros((100, 2), dtype="int16"), 8000, subtype="PCM_16")
    with pytest.raises(RecordingError, match="not 16-bit mono"):
        read_recording(stereo)
    with pytest.raises(RecordingError, match="sample rate"):
        RecordingWriter(tmp_path / "r.wav", 5)


_CHILD = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from pathlib import Path
    from agent_monitor.storage.recordings import RecordingWriter

    path, rate = Path(sys.argv[1]), int(sys.argv[2])
    chunk = rate // 50  # 20 ms frames, as telephony sends them
    writer = RecordingWriter(path, rate)
    written = 0
    while True:
        i = np.arange(written, written + chunk, dtype=np.int64)
        writer.write((((i * 7919) % 65521) - 32760).astype("<i2").tobytes())
        written += chunk
        print(written, flush=True)
        time.sleep(0.004)  # faster than real time, but still a stream of small writes
    """
)


def test_kill_9_mid_stream_loses_at_most_the_flush_interval(tmp_path: Path) -> None:
    path = tmp_path / "crash.wav"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(path), str(RATE)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert child.stdout is not None
    reported = 0
    deadline = time.monotonic() + 60
    while reported < RATE * 4 and time.monotonic() < deadline:  # at least 4 s of audio written
        line = child.stdout.readline()
        if not line:
            break
        reported = int(line)
    child.send_signal(signal.SIGKILL)
    rest = child.stdout.read()
    child.stdout.close()
    child.wait()
    assert child.returncode == -signal.SIGKILL
    reported = max([reported, *(int(x) for x in rest.split())])
    assert reported >= RATE * 4, "the writer did not get going"

    # the crashed file is a valid WAV that an ordinary reader opens (header up to the last flush)
    data, rate = sf.read(path, dtype="int16")
    assert rate == RATE and len(data) >= reported - RATE  # at most ~1 s behind
    # our reader returns everything that reached the file, which is all but < 0.5 s (one flush)
    audio = read_recording(path)
    recovered = audio.n_samples
    assert reported - 0.5 * RATE <= recovered <= reported + RATE // 50
    assert audio.pcm == _signal(recovered).tobytes()  # and it is exactly what was written
    # repairing the header makes ordinary readers see all of it as well
    assert repair_recording(path) == recovered * 2
    data, _ = sf.read(path, dtype="int16")
    assert data.tobytes() == audio.pcm and read_recording(path).header_complete


def test_a_recording_written_under_an_older_folder_name_is_still_found(tmp_path: Path) -> None:
    """Before folder names carried the call id's hash, a recording lived at ``recordings/<call id>``;
    its row keeps that path, and replay/export find the file through it."""
    old = tmp_path / "recordings" / "call-7" / "agent.wav"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"RIFF")
    assert locate_recording(tmp_path, "call-7", Leg.AGENT, str(old)) == old
    assert locate_recording(tmp_path, "call-7", Leg.AGENT, "recordings/call-7/agent.wav") == old
    current = recording_path(tmp_path, "call-7", Leg.AGENT)
    assert locate_recording(tmp_path, "call-7", Leg.AGENT, None) == current
    current.parent.mkdir(parents=True)
    current.write_bytes(b"RIFF")
    assert locate_recording(tmp_path, "call-7", Leg.AGENT, str(old)) == current  # the current file wins
