"""`agent-monitor transcribe` as a user runs it: real model, real files, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent_monitor", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_jsonl_fields_and_times(librispeech_flac: Path) -> None:
    proc = _run("transcribe", librispeech_flac, "--format", "jsonl")
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert lines
    for rec in lines:
        assert set(rec) == {"file", "leg", "start", "end", "text", "words"}
        assert rec["file"] == str(librispeech_flac) and rec["leg"] == "agent"
        assert 0 <= rec["start"] <= rec["end"] <= 10.5
        for w in rec["words"]:
            assert set(w) == {"w", "start", "end", "conf"}
            assert rec["start"] - 1e-3 <= w["start"] <= w["end"] <= rec["end"] + 1e-3
    text = " ".join(r["text"] for r in lines)
    assert "stew for dinner" in text


def test_stereo_call_text_and_srt(call_opus: Path, tmp_path: Path) -> None:
    x, rate = sf.read(call_opus, dtype="float32")
    excerpt = tmp_path / "excerpt.wav"
    sf.write(excerpt, x[: 30 * rate], rate)
    proc = _run("transcribe", excerpt, "--format", "srt")
    assert proc.returncode == 0, proc.stderr
    blocks = [b for b in proc.stdout.strip().split("\n\n") if b]
    assert len(blocks) >= 4
    legs = {b.splitlines()[2].split(":")[0] for b in blocks}
    assert legs == {"agent", "debtor"}
    assert " --> " in blocks[0].splitlines()[1]
    # Which leg said what, compared by time: the words of two runs may differ, since Kaldi's
    # dither draws from one process-wide rand() and the two legs decode on two threads
    # (asr/offline/draws.py), so the draws interleave differently from run to run.
    plain = _run("transcribe", excerpt, "--format", "jsonl")
    swapped = _run("transcribe", excerpt, "--format", "jsonl", "--agent-channel", "right")
    assert plain.returncode == swapped.returncode == 0, plain.stderr + swapped.stderr
    before = [json.loads(x) for x in plain.stdout.splitlines()]
    after = [json.loads(x) for x in swapped.stdout.splitlines()]
    matched = 0
    for rec in before:
        middle = (rec["start"] + rec["end"]) / 2
        same_time = [r for r in after if r["start"] <= middle <= r["end"]]
        assert all(r["leg"] != rec["leg"] for r in same_time), (rec, same_time)
        matched += bool(same_time)
    assert matched >= 4, (before, after)


def test_8k_mulaw_telephone_audio(digits_8k: Path, tmp_path: Path) -> None:
    """Telephone-rate mu-law WAV, several digit clips joined with pauses."""
    clips = [sf.read(digits_8k.parent / f"{d}_lucas_0.wav", dtype="float32")[0] for d in (1, 5, 7)]
    pause = np.zeros(4000, dtype=np.float32)
    path = tmp_path / "digits_mulaw.wav"
    sf.write(
        path, np.concatenate([pause, clips[0], pause, clips[1], pause, clips[2], pause]), 8000, subtype="ULAW"
    )
    proc = _run("transcribe", path, "--format", "jsonl")
    assert proc.returncode == 0, proc.stderr
    words = [w["w"] for line in proc.stdout.splitlines() for w in json.loads(line)["words"]]
    assert len({"one", "five", "seven"} & set(words)) >= 2, words


def test_bad_inputs_give_one_line_each_and_the_rest_still_run(librispeech_flac: Path, tmp_path: Path) -> None:
    (tmp_path / "text.wav").write_text("hello, not audio\n" * 50)
    (tmp_path / "empty.wav").write_bytes(b"")
    data = librispeech_flac.read_bytes()
    (tmp_path / "cut.flac").write_bytes(data[: len(data) // 3])
    x, rate = sf.read(librispeech_flac, dtype="float32")
    sf.write(tmp_path / "three.wav", np.stack([x, x, x], axis=1), rate)
    bad = [tmp_path / n for n in ("text.wav", "empty.wav", "cut.flac", "three.wav", "missing.wav")]
    proc = _run("transcribe", *bad[:2], librispeech_flac, *bad[2:], "--format", "jsonl")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("agent-monitor: error: ")]
    assert len(errors) == len(bad)
    for path, line in zip(bad, errors, strict=True):
        assert str(path) in line
    assert "5 of 6 files failed" in proc.stderr
    assert "stew" in proc.stdout  # the good file was still transcribed


def test_missing_model_is_a_clear_error(librispeech_flac: Path) -> None:
    proc = _run("transcribe", librispeech_flac, "--model", "vosk-model-does-not-exist")
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and "not installed" in proc.stderr


def test_bad_channel_map_and_absurd_raw_rate(librispeech_flac: Path, tmp_path: Path) -> None:
    proc = _run("transcribe", librispeech_flac, "--channel-map", "0=boss")
    assert proc.returncode != 0 and "Traceback" not in proc.stderr and "cannot parse" in proc.stderr
    raw = tmp_path / "a.raw"
    raw.write_bytes(b"\x00\x01" * 1000)
    proc = _run("transcribe", raw, "--raw-encoding", "s16le", "--raw-rate", "1")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and "sample rate 1 Hz" in proc.stderr


def test_raw_rate_and_channels_apply_to_raw_files_only() -> None:
    """``--raw-rate``/``--raw-channels`` were ignored without ``--raw-encoding``, also for a
    ``.ulaw`` file read as raw by its suffix, and silently for a file with a header."""
    from agent_monitor.audio.decode import RawFormat
    from agent_monitor.cli.transcribe_cmd import raw_format
    from agent_monitor.errors import AudioFormatError

    assert raw_format(Path("c.ulaw"), None, 16000, None) == RawFormat(16000, 1, "mulaw")
    assert raw_format(Path("c.ULAW"), None, None, 2) == RawFormat(8000, 2, "mulaw")
    assert raw_format(Path("c.raw"), None, None, None) == RawFormat(16000, 1, "s16le")
    assert raw_format(Path("c.wav"), "alaw", None, None) == RawFormat(8000, 1, "alaw")
    assert raw_format(Path("c.wav"), None, None, None) is None
    with pytest.raises(AudioFormatError, match=r"c\.wav: --raw-rate and --raw-channels apply to raw"):
        raw_format(Path("c.wav"), None, 8000, None)


def test_a_raw_rate_of_zero_for_a_ulaw_file_is_refused(tmp_path: Path) -> None:
    """It was ignored (the file was read at 8 kHz and exit 0)."""
    ulaw = tmp_path / "c.ulaw"
    ulaw.write_bytes(bytes(range(256)) * 40)
    proc = _run("transcribe", ulaw, "--raw-rate", "0")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "sample rate 0 Hz" in proc.stderr, proc.stderr
