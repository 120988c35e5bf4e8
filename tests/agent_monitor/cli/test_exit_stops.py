"""A Ctrl-C (or SIGTERM) that lands after the command has ended, while Python exits
(agent_monitor/cli/exiting.py): the program's real entry in a child process, the stop sent from
the exit itself so that it always lands there."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.python_child import run_python

#: the program's entry running a command that ends by a Ctrl-C (status 130) or returns 0, and
#: leaves behind something of the exit that sends a stop and then takes its time: an exit hook,
#: or a thread (not a daemon) that Python waits for
STOPPED_WHILE_EXITING = """
import argparse, atexit, os, signal, sys, threading, time
from agent_monitor import cli

def late():
    os.kill(os.getpid(), signal.{sig})
    time.sleep(0.2)  # where the handler runs
    print("exit went on", flush=True)

def command(args, settings):
    if "{where}" == "hook":
        atexit.register(late)
    else:
        threading.Thread(target=lambda: (time.sleep(0.3), late())).start()
    if {interrupted}:
        raise KeyboardInterrupt
    return 0

def build_parser():
    parser = argparse.ArgumentParser(prog="agent-monitor")
    parser.add_argument("--config")
    parser.set_defaults(func=command)
    return parser

cli.build_parser = build_parser
sys.argv = ["agent-monitor"]
sys.exit(cli.entry())
"""

ENDED = [(True, 130, "agent-monitor: interrupted"), (False, 0, "")]


def _exit_stopped(
    sig: str, where: str, interrupted: bool, tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    script = STOPPED_WHILE_EXITING.format(sig=sig, where=where, interrupted=interrupted)
    return run_python(script, data_dir=tmp_path / "data")


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
@pytest.mark.parametrize(("interrupted", "status", "said"), ENDED)
def test_a_stop_in_an_exit_hook_changes_nothing(
    sig: str, interrupted: bool, status: int, said: str, tmp_path: Path
) -> None:
    """Python's default: a Ctrl-C raised in the exit hook ("Exception ignored in atexit callback"
    and a traceback after the command's last line), and a SIGTERM killed the process (-15) after
    the command had told its status."""
    done = _exit_stopped(sig, "hook", interrupted, tmp_path)
    assert done.returncode == status, (done.returncode, done.stderr)
    assert done.stderr.strip() == said, done.stderr
    assert done.stdout == "exit went on\n"


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
@pytest.mark.parametrize(("interrupted", "status", "said"), ENDED)
def test_a_stop_while_python_waits_for_a_thread_ends_it_with_the_commands_status(
    sig: str, interrupted: bool, status: int, said: str, tmp_path: Path
) -> None:
    """A thread that keeps the exit waiting can still be cut short, with the status the command
    told (Python's default: a traceback from the wait, or death by SIGTERM)."""
    done = _exit_stopped(sig, "thread", interrupted, tmp_path)
    assert done.returncode == status, (done.returncode, done.stderr)
    assert done.stderr.strip() == said, done.stderr
    assert done.stdout == ""  # ended at the stop, not after the thread
