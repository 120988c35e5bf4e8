"""``agent-monitor db status|verify``, ``users list`` and ``qa forms list|show`` only report: on a
data directory without a database they say so in one line and create nothing; a database file
that cannot be written is said to be read-only (real files, a real process where the check needs
the operating system's permissions)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agent_monitor.cli import main

REPO = Path(__file__).resolve().parents[3]

REPORTS = (
    ["db", "status"],
    ["db", "verify"],
    ["users", "list"],
    ["qa", "forms", "list"],
    ["qa", "forms", "show"],
)


@pytest.mark.parametrize("argv", REPORTS, ids=" ".join)
def test_a_report_on_a_fresh_data_dir_says_there_is_no_database_and_creates_nothing(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`db status` on a new data directory made the directory and an empty SQLite file (and said
    "revision none"); `users list` and `qa forms list` even migrated it. Now one line, exit 1,
    and nothing on disk; `db upgrade` still makes the database."""
    monkeypatch.delenv("AGENT_MONITOR_DATABASE_URL", raising=False)
    data = tmp_path / "data"
    monkeypatch.setenv("AGENT_MONITOR_DATA_DIR", str(data))
    db_file = (data / "agent-monitor.db").resolve()
    assert main(argv) == 1
    out = capsys.readouterr()
    assert out.err == f"agent-monitor: error: no database at {db_file} (run `agent-monitor db upgrade`)\n"
    assert not data.exists()
    assert main(["db", "upgrade"]) == 0
    assert db_file.is_file()


def test_a_listing_does_not_migrate_an_existing_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An existing, never migrated database file is left as it is by `users list` (it migrated it)."""
    monkeypatch.delenv("AGENT_MONITOR_DATABASE_URL", raising=False)
    data = tmp_path / "data"
    data.mkdir()
    (data / "agent-monitor.db").write_bytes(b"")
    monkeypatch.setenv("AGENT_MONITOR_DATA_DIR", str(data))
    assert main(["users", "list"]) == 1
    assert "schema is at revision none" in capsys.readouterr().err
    assert main(["db", "status"]) == 0
    assert "revision none" in capsys.readouterr().out


def _as_without_write_override(*argv: str) -> list[str]:
    """``argv`` run so that file permissions bind: as root, without the capabilities that let root
    write any file (a bounding set without them, dropped at exec)."""
    if os.geteuid() != 0:
        return list(argv)
    setpriv = shutil.which("setpriv")  # util-linux, an essential Debian package
    assert setpriv is not None, "running as root without setpriv: cannot drop the right to write any file"
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-all", *argv]


def _run(argv: list[str], data: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AGENT_MONITOR_DATA_DIR": str(data), "AGENT_MONITOR_CONFIG": ""}
    env.pop("AGENT_MONITOR_DATABASE_URL", None)
    return subprocess.run(argv, env=env, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)


def test_a_read_only_database_file_is_said_to_be_read_only(tmp_path: Path) -> None:
    """`db upgrade` (and `serve`) on a database file without write permission said "cannot create
    database file" of a file that is there. Now it says the file is read-only; a report still
    reads it."""
    data = tmp_path / "data"
    cli = [sys.executable, "-m", "agent_monitor"]
    made = _run([*cli, "db", "upgrade"], data)
    assert made.returncode == 0, made.stderr
    db_file = (data / "agent-monitor.db").resolve()
    db_file.chmod(0o400)
    upgrade = _run(_as_without_write_override(*cli, "db", "upgrade"), data)
    assert upgrade.returncode == 1
    assert upgrade.stderr == (
        f"agent-monitor: error: database file {db_file} is read-only: it cannot be written"
        " (Permission denied)\n"
    )
    status = _run(_as_without_write_override(*cli, "db", "status"), data)
    assert status.returncode == 0 and "(up to date)" in status.stdout, status.stderr


@pytest.mark.parametrize("argv", [["db", "upgrade"], *REPORTS], ids=" ".join)
def test_a_folder_where_the_database_file_should_be_is_named_a_folder(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder at the database's path was "no database at PATH" to a report and "cannot open
    database file for writing" to ``db upgrade``; both now say what is there, and leave it."""
    data = tmp_path / "data"
    folder = data / "agent-monitor.db"
    (folder / "inside").mkdir(parents=True)
    monkeypatch.setenv("AGENT_MONITOR_DATA_DIR", str(data))
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err == f"agent-monitor: error: database path {folder.resolve()} is a folder, not a database file\n"
    assert sorted(p.name for p in folder.iterdir()) == ["inside"]
