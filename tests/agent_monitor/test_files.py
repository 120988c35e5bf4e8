"""write_atomic: a reader finds the old file or the whole new one, never a part.

The failures are injected where the operating system would fail (the flush to disk, the rename):
a full disk or an interrupt cannot be produced on demand here.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from agent_monitor.errors import ConfigError
from agent_monitor.files import check_output, write_atomic


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_writes_text_and_bytes_and_makes_the_folder(tmp_path: Path) -> None:
    target = tmp_path / "new" / "deeper" / "out.json"
    write_atomic(target, "héllo\n")
    assert target.read_bytes() == "héllo\n".encode()
    write_atomic(target, b"\x00\xff")
    assert target.read_bytes() == b"\x00\xff"
    assert _leftovers(target.parent) == []


def test_the_new_file_has_the_umask_mode_of_a_plain_write(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "a", "x")
        (tmp_path / "b").write_text("x")
    finally:
        os.umask(old)
    assert (tmp_path / "a").stat().st_mode & 0o777 == (tmp_path / "b").stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize(
    "failure", [OSError(errno.ENOSPC, "full"), KeyboardInterrupt()], ids=["disk-full", "ctrl-c"]
)
def test_a_failed_write_keeps_the_old_file_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException
) -> None:
    target = tmp_path / "model.json"
    target.write_text('{"old": true}\n')

    def fail(fd: int) -> None:
        raise failure

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(type(failure)):
        write_atomic(target, '{"new": true, "long": "' + "x" * 100_000 + '"}\n')
    assert json.loads(target.read_text()) == {"old": True}
    assert _leftovers(tmp_path) == []


def test_a_failed_rename_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "anchors.json"
    target.write_text("old\n")

    def fail(src: object, dst: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        write_atomic(target, "new\n")
    assert target.read_text() == "old\n"
    assert _leftovers(tmp_path) == []


def test_check_output_refuses_a_folder_or_a_file_in_the_way_and_leaves_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "model.json"
    folder.mkdir()
    with pytest.raises(ConfigError, match=r"^--out .*model\.json: is a folder; give a file name$"):
        check_output(folder, "--out")
    a_file = tmp_path / "notes.txt"
    a_file.write_text("a file, not a folder\n")
    with pytest.raises(
        ConfigError, match=r"^--out .*notes\.txt/m\.json: cannot write there \(.*notes\.txt\)$"
    ):
        check_output(a_file / "m.json", "--out")
    check_output(tmp_path / "new" / "m.json", "--out")  # a missing folder is created; no probe left
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["model.json", "new", "notes.txt"]
