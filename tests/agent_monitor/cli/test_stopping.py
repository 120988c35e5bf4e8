"""Ctrl-C (SIGINT) and SIGTERM in the middle of long commands, as a user or a service manager
sends them: the real CLI in a child process, the real model and recordings. Each command must end
with one line, no traceback and nothing left half-done (agent_monitor/cli/stopping.py)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.python_child import run_python

REPO = Path(__file__).resolve().parents[3]


def _start(data_dir: Path, *args: str | Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "agent_monitor", *map(str, args)],
        env={**os.environ, "PYTHONPATH": str(REPO), "AGENT_MONITOR_DATA_DIR": str(data_dir), **(env or {})},
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _when(ready: Callable[[], bool], proc: subprocess.Popen[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, f"ended before the signal: {proc.communicate()}"
        assert time.monotonic() < deadline, "the command never got to the point to interrupt"
        time.sleep(0.01)


def _stop(proc: subprocess.Popen[str], sig: int) -> tuple[str, float]:
    """Send ``sig``; the command's stderr and how long it took to end."""
    sent = time.monotonic()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    return err, time.monotonic() - sent


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    if not db.exists():
        return []
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.1) as conn:
        try:
            return conn.execute(sql).fetchall()
        except sqlite3.OperationalError:  # not created yet, or locked by the writer
            return []


def test_sigterm_during_analyze_closes_the_call_and_seals_its_recordings(
    eval_data: Path, tmp_path: Path
) -> None:
    data, db = tmp_path / "data", tmp_path / "data" / "agent-monitor.db"
    proc = _start(data, "analyze", eval_data / "calls/spokenwoz/MUL1011.opus", "--call-id", "cut")
    _when(lambda: bool(_rows(db, "SELECT id FROM calls WHERE id = 'cut'")), proc)
    time.sleep(0.5)  # well into the call's 6 s of analysis
    err, took = _stop(proc, signal.SIGTERM)
    # SIGTERM used to end the process on the spot: the call stayed 'live' with open recordings
    assert proc.returncode == -signal.SIGTERM, err
    assert err.strip().endswith("agent-monitor: terminated") and "Traceback" not in err, err
    assert took < 10, took
    assert _rows(db, "SELECT status FROM calls") == [("aborted",)]
    closed = "SELECT leg FROM recordings WHERE closed_at IS NOT NULL AND sha256 IS NOT NULL"
    assert sorted(_rows(db, closed)) == [("agent",), ("debtor",)]
    verify = _start(data, "db", "verify")
    out, err = verify.communicate(timeout=60)
    assert verify.returncode == 0 and "open recording" not in out, out + err


def test_ctrl_c_during_db_upgrade_leaves_the_schema_whole_or_absent(tmp_path: Path) -> None:
    data, db = tmp_path / "data", tmp_path / "data" / "agent-monitor.db"
    proc = _start(data, "db", "upgrade")

    opened: list[float] = []

    def migrating() -> bool:
        # SQLite's DDL used to commit statement by statement: tables without their revision
        half_done = _rows(db, "SELECT name FROM sqlite_master WHERE name = 'agents'") and not _rows(
            db, "SELECT version_num FROM alembic_version"
        )
        # now nothing shows before the commit: interrupt inside the migration's transaction,
        # which holds the database from about 40 to 190 ms after it is opened
        if not opened and _holds_open(proc.pid, db):
            opened.append(time.monotonic())
        return bool(half_done) or bool(opened and time.monotonic() - opened[0] > 0.06)

    _when(migrating, proc)
    err, _ = _stop(proc, signal.SIGINT)
    assert proc.returncode == 130, err
    assert err.strip().endswith("agent-monitor: interrupted") and "Traceback" not in err, err
    tables = {name for (name,) in _rows(db, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables in (set(), {"alembic_version"}) or "qa_queue" in tables, tables
    again = _start(data, "db", "upgrade")
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0 and "is at schema revision" in out, err


def _holds_open(pid: int, path: Path) -> bool:
    fds = Path(f"/proc/{pid}/fd")
    try:
        return any(os.readlink(fd) == str(path) for fd in fds.iterdir())
    except OSError:  # an fd closed while listed
        return False


def test_ctrl_c_during_eval_asr_keeps_the_previous_word_log(eval_data: Path, tmp_path: Path) -> None:
    log = tmp_path / "words.jsonl"
    log.write_text("the previous run's log\n", encoding="utf-8")
    partial = tmp_path / "words.jsonl.partial"
    folder = eval_data / "speech/en/mfa_spontaneous"
    proc = _start(tmp_path / "data", "eval", "asr", folder, "--conditions", "clean,gsm", "--words-out", log)
    # the first clip decoded (before: the log itself was cut to that line, so it read as complete)
    _when(lambda: any(p.exists() and p.stat().st_size > 30 for p in (partial, log)), proc)
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        # a stop that lands in a finalizer is delivered again since session 32 (the test below);
        # a second Ctrl-C stays here, as a user would press it, for a stop lost some other way
        proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert err.strip().endswith("agent-monitor: interrupted"), err
    assert log.read_text(encoding="utf-8") == "the previous run's log\n"
    assert not partial.exists()


def test_ctrl_c_stops_serve_with_the_interrupted_status(tmp_path: Path) -> None:
    import httpx

    from tests.web.server_process import free_port

    port = free_port()
    env = {
        "AGENT_MONITOR_SERVER__PORT": str(port),
        "AGENT_MONITOR_SERVER__AUDIOSOCKET_PORT": str(free_port()),
    }
    env |= {"AGENT_MONITOR_ASR__SPARE_RECOGNIZERS": "0", "AGENT_MONITOR_SERVER__WORKERS": "0"}
    proc = _start(tmp_path / "data", "serve", env=env)

    def up() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        _when(up, proc)
        err, took = _stop(proc, signal.SIGINT)
    finally:
        proc.kill()  # a server that did not stop (nothing where it did)
        proc.wait()
    # uvicorn.run swallowed the KeyboardInterrupt: a stopped server exited 0 and said nothing
    assert proc.returncode == 130, err
    assert err.strip().endswith("agent-monitor: interrupted") and "Traceback" not in err, err
    assert took < 10, took


#: a command whose stop lands while Python runs a finalizer: the finalizer sends the signal to its
#: own process, so the handler runs (and raises) inside it, as a Ctrl-C can land there by chance
LANDS_IN_A_FINALIZER = """
import os, signal, sys, time
from agent_monitor.cli.stopping import StopSignals

class Landing:
    def __del__(self):
        os.kill(os.getpid(), signal.{sig})
        sum(range(1000))  # Python code after the kill: where the handler runs and raises

with StopSignals() as stop:
    try:
        Landing()
        time.sleep(10)
        print("carried on")
    except KeyboardInterrupt:
        print("stopped", "by SIGTERM" if stop.terminated else "by Ctrl-C")
"""


@pytest.mark.parametrize(("sig", "how"), [("SIGINT", "by Ctrl-C"), ("SIGTERM", "by SIGTERM")])
def test_a_stop_that_lands_in_a_finalizer_still_stops_the_command(sig: str, how: str) -> None:
    """Python drops the KeyboardInterrupt raised in a finalizer ("Exception ignored in ..."): the
    command used to carry on as if nothing had come; now the stop is delivered again outside it."""
    started = time.monotonic()
    done = run_python(LANDS_IN_A_FINALIZER.format(sig=sig))
    assert done.stdout.strip() == f"stopped {how}", (done.stdout, done.stderr)
    assert time.monotonic() - started < 8
    assert "Exception ignored" not in done.stderr and "Traceback" not in done.stderr, done.stderr


#: a stop lands in a finalizer, and a second one in the hook that takes the first one's report, as
#: it starts the delivery (the hook's thread start made to send it, at the moment it can land)
LANDS_IN_THE_HOOK = """
import _thread, os, signal, time
from agent_monitor.cli.stopping import StopSignals

real = _thread.start_new_thread

def landing(*args):
    _thread.start_new_thread = real
    os.kill(os.getpid(), signal.SIGINT)
    sum(range(1000))  # the handler runs and raises here, in the hook
    return real(*args)

class Landing:
    def __del__(self):
        os.kill(os.getpid(), signal.SIGINT)
        sum(range(1000))

with StopSignals():
    try:
        _thread.start_new_thread = landing
        Landing()
        time.sleep(10)
        print("carried on")
    except KeyboardInterrupt:
        print("stopped")
"""


def test_a_second_stop_in_the_hook_neither_prints_nor_loses_the_delivery() -> None:
    """Ctrl-C pressed three times, 0-20 ms apart, into ``eval asr`` (2 of 120 runs on 0fb4b19):
    the second stop was raised in the hook as it started the delivery ("Exception ignored in
    sys.unraisablehook" and a traceback)."""
    started = time.monotonic()
    done = run_python(LANDS_IN_THE_HOOK)
    assert (done.stdout, done.stderr) == ("stopped\n", "")
    assert time.monotonic() - started < 8


#: the real ``main`` running a command whose last act drops a stop in a finalizer: the command
#: returns (0) before the stop is delivered again
LANDS_AS_THE_COMMAND_ENDS = """
import argparse, os, signal, sys
from agent_monitor import cli

class Landing:
    def __del__(self):
        os.kill(os.getpid(), signal.{sig})
        sum(range(1000))  # Python code after the kill: where the handler runs and raises

def command(args, settings):
    Landing()  # collected at once: the stop lands in its finalizer, then the command returns
    return 0

def build_parser():
    parser = argparse.ArgumentParser(prog="agent-monitor")
    parser.add_argument("--config")
    parser.set_defaults(func=command)
    return parser

cli.build_parser = build_parser
sys.exit(cli.main([]))
"""


@pytest.mark.parametrize(
    ("sig", "status", "line"),
    [
        ("SIGINT", 130, "agent-monitor: interrupted"),
        ("SIGTERM", -signal.SIGTERM, "agent-monitor: terminated"),
    ],
)
def test_a_stop_dropped_in_a_finalizer_as_the_command_ends_still_counts(
    sig: str, status: int, line: str, tmp_path: Path
) -> None:
    """The dropped stop is delivered again a moment later; a command that ended within that moment
    used to cancel the delivery on its way out and exit 0, as if no Ctrl-C had come."""
    done = run_python(LANDS_AS_THE_COMMAND_ENDS.format(sig=sig), data_dir=tmp_path / "data")
    assert done.returncode == status, (done.returncode, done.stderr)
    assert done.stderr.strip() == line, done.stderr
