"""``agent-monitor eval live``'s output paths (``--turns-out``, ``--tts-cache``): one that cannot be
written is refused with one line before any call is spoken or streamed, never after the run."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from agent_monitor.cli import main


@pytest.fixture()
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AGENT_MONITOR_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_turns_out_a_folder_is_refused_before_the_run(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--turns-out`` a folder ran every call, then ended in a traceback (IsADirectoryError) that
    lost the report; now one line at once, and no partial file is left."""
    folder = tmp_path / "turns"
    folder.mkdir()
    started = time.monotonic()
    assert main(["eval", "live", "--calls", "1", "--speed", "4", "--turns-out", str(folder)]) == 1
    assert time.monotonic() - started < 10.0
    err = capsys.readouterr().err.strip()
    assert err == f"agent-monitor: error: eval live: cannot write --turns-out {folder} (Is a directory)"
    assert list(tmp_path.glob("*.partial")) == [] and list(folder.iterdir()) == []


def test_tts_cache_a_file_is_one_line(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--tts-cache`` a file ended in a traceback (NotADirectoryError from mkdir)."""
    not_a_folder = tmp_path / "cache.txt"
    not_a_folder.write_text("not a folder\n")
    assert main(["eval", "live", "--calls", "1", "--tts-cache", str(not_a_folder)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"agent-monitor: error: TTS cache {not_a_folder}: cannot create {not_a_folder}/")
    assert err.endswith(": Not a directory") and "\n" not in err


def test_turns_out_with_text_only_is_refused_not_ignored(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--text-only --turns-out F`` printed the text report and never wrote F, without a word."""
    out = tmp_path / "turns.jsonl"
    assert main(["eval", "live", "--calls", "1", "--text-only", "--turns-out", str(out)]) == 1
    assert "--turns-out" in capsys.readouterr().err and not out.exists()
