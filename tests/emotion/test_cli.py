"""``agent-monitor stress score`` and ``agent-monitor eval stress`` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from agent_monitor.cli import main

ANGRY = "03-01-05-02-01-01-01.wav"  # actor 01
NEUTRAL = "03-01-01-01-01-01-01.wav"
CALM = "03-01-02-01-02-01-01.wav"


def test_score_json_format(ravdess: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["stress", "score", str(ravdess / ANGRY), str(ravdess / CALM), "--json"])
    assert rc == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    records = [json.loads(line) for line in lines]
    for rec, name in zip(records, (ANGRY, CALM), strict=True):
        assert set(rec) == {"file", "score", "level", "timeline"}
        assert rec["file"].endswith(name)
        assert 0 <= rec["score"] <= 100
        assert rec["level"] in ("none", "elevated", "high")
        assert rec["timeline"] and all(set(p) == {"t", "score"} for p in rec["timeline"])
        times = [p["t"] for p in rec["timeline"]]
        assert times == sorted(times) and times[0] == 1.0
    assert records[0]["score"] > records[1]["score"]
    assert records[0]["level"] == "high"


def test_score_text_with_baseline(ravdess: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(
        ["stress", "score", str(ravdess / ANGRY), str(ravdess / CALM), "--baseline", str(ravdess / NEUTRAL)]
    )
    assert rc == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 2
    assert "high" in out[0] and "relative to" in out[0]
    assert "none" in out[1]


def test_bad_files_fail_with_one_line_and_keep_the_others(
    ravdess: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(16000, np.float32), 16000)
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio at all")
    rc = main(["stress", "score", str(silent), str(junk), str(ravdess / ANGRY), "--json"])
    captured = capsys.readouterr()
    assert rc == 1
    assert json.loads(captured.out)["file"].endswith(ANGRY)
    errors = captured.err.strip().splitlines()
    assert any("silent.wav" in e and "too little voiced speech" in e for e in errors)
    assert any("junk.wav" in e for e in errors)
    assert all(e.startswith("agent-monitor:") for e in errors)


def test_silent_baseline_is_a_clear_error(
    ravdess: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(8000, np.float32), 8000)
    assert main(["stress", "score", str(ravdess / ANGRY), "--baseline", str(silent)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "baseline" in err


def test_missing_model_is_a_clear_error(
    ravdess: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stress", "score", str(ravdess / ANGRY), "--model", str(tmp_path / "none.json")]) == 1
    assert "stress train" in capsys.readouterr().err


def test_a_fifo_is_refused_at_once_and_the_other_files_scored(
    ravdess: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``stress score`` on a FIFO waited forever for a writer (it reads files its own way, not
    through ``transcribe``'s decoder, which refused it already): now one line, and the next file
    is scored. Run in a thread so that the old code fails the test instead of hanging it."""
    import os
    import threading

    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    result: list[int] = []
    worker = threading.Thread(
        target=lambda: result.append(main(["stress", "score", str(fifo), str(ravdess / CALM), "--json"])),
        daemon=True,
    )
    worker.start()
    worker.join(60.0)
    if worker.is_alive():  # the old code: release the reader before failing
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(10.0)
        pytest.fail("stress score on a FIFO did not return")
    captured = capsys.readouterr()
    assert result == [1]
    assert json.loads(captured.out)["file"].endswith(CALM)
    assert (
        captured.err.splitlines()[0]
        == f"agent-monitor: error: {fifo}: not a regular file (a pipe or a device)"
    )


def test_truncated_and_empty_files_are_refused_not_scored_as_a_part(
    ravdess: Path, eval_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``stress score`` read files with its own loader, which took whatever libsndfile decoded:
    the real call cut at 20 kB (an Ogg/Opus stream with no end) was scored as if whole (exit 0),
    a WAV cut in half was "too little voiced speech", an empty file "Format not recognised". Now
    it reads them by the product's one decoder: one line naming the truncation, exit 1, and the
    whole file after them is still scored."""
    cut_opus = tmp_path / "cut.opus"
    cut_opus.write_bytes((eval_data / "calls" / "spokenwoz" / "MUL1011.opus").read_bytes()[:20000])
    whole = (ravdess / ANGRY).read_bytes()
    cut_wav = tmp_path / "cut.wav"
    cut_wav.write_bytes(whole[: len(whole) // 2])
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    rc = main(["stress", "score", str(cut_opus), str(cut_wav), str(empty), str(ravdess / ANGRY), "--json"])
    captured = capsys.readouterr()
    assert rc == 1
    assert json.loads(captured.out)["file"].endswith(ANGRY)
    errors = captured.err.strip().splitlines()
    assert (
        errors[0]
        == f"agent-monitor: error: {cut_opus}: truncated: Ogg stream ends without its end-of-stream page"
    )
    assert errors[1].startswith(f"agent-monitor: error: {cut_wav}: truncated: WAV data chunk declares")
    assert errors[2] == f"agent-monitor: error: {empty}: file is empty"
    assert errors[3] == "agent-monitor: 3 of 4 files failed"


def test_train_to_a_folder_is_refused_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``stress train --output DIR`` measured and trained first, then ended in a traceback from the
    rename; now one line before any clip is read."""
    assert main(["stress", "train", "--output", str(tmp_path)]) == 1
    assert (
        capsys.readouterr().err.strip()
        == f"agent-monitor: error: --output {tmp_path}: is a folder; give a file name"
    )
