"""The ``agent-monitor`` command line.

Each sub-command lives in its own module of this package and exposes
``register(commands, evals)``: ``commands`` is the top-level sub-parser set and ``evals`` the
sub-parsers of ``agent-monitor eval``. A command sets ``func`` to a handler
``(args, settings) -> int``. Heavy imports happen inside handlers, never at import time.

Expected failures (:class:`AgentMonitorError`) print one line ``agent-monitor: error: ...`` and
exit non-zero; no traceback is shown for them. Ctrl-C prints ``agent-monitor: interrupted`` and
exits 130, SIGTERM ``agent-monitor: terminated`` and ends the process by SIGTERM (143), both after
the command's cleanup (:mod:`agent_monitor.cli.stopping`).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from agent_monitor.cli.stopping import INTERRUPTED_STATUS, StopSignals, end_by_sigterm
from agent_monitor.errors import AgentMonitorError

#: command modules, in the order their commands appear in ``--help``
COMMAND_MODULES = (
    "agent_monitor.cli.models_cmd",
    "agent_monitor.cli.transcribe_cmd",
    "agent_monitor.cli.db_cmd",
    "agent_monitor.cli.stress_cmd",
    "agent_monitor.cli.rules_cmd",
    "agent_monitor.cli.live_cmd",
    "agent_monitor.cli.demo_cmd",
    "agent_monitor.cli.analyze_cmd",
    "agent_monitor.cli.users_cmd",
    "agent_monitor.cli.qa_cmd",
    "agent_monitor.cli.eval_live_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agent-monitor",
        description="Offline real-time supervision and QA of call-center calls.",
    )
    parser.add_argument("--config", type=Path, help="TOML settings file (also AGENT_MONITOR_CONFIG)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    eval_parser = commands.add_parser("eval", help="measure accuracy on a labeled data folder")
    evals = eval_parser.add_subparsers(dest="eval_command", metavar="WHAT")
    eval_parser.set_defaults(func=lambda args, settings: _usage(eval_parser))
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(commands, evals)
    return parser


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None, stops: StopSignals | None = None) -> int:
    """Run the command ``argv`` names; its exit status. ``stops``: how stops are taken (the
    program's own, from :func:`entry`; a fresh one otherwise)."""
    from agent_monitor.settings import load_settings

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        return _usage(parser)
    with stops or StopSignals() as stop:
        try:
            settings = load_settings(args.config)
            rc: int = args.func(args, settings)
        except AgentMonitorError as exc:
            if not stop.terminated:  # an error that the stop itself caused is not reported
                print(f"agent-monitor: error: {exc}", file=sys.stderr)
                return exc.exit_code
        except KeyboardInterrupt:
            if not stop.terminated:
                return _tell_interrupted(stop)
    if stop.terminated:  # after the command's cleanup, even where it returned (a server's stop)
        return _tell_terminated(stop)
    if stop.dropped:  # a Ctrl-C that a finalizer dropped just as the command ended
        return _tell_interrupted(stop)
    return rc


def _tell_interrupted(stop: StopSignals) -> int:
    print("agent-monitor: interrupted", file=sys.stderr)
    stop.told = True
    return INTERRUPTED_STATUS


def _tell_terminated(stop: StopSignals) -> int:
    print("agent-monitor: terminated", file=sys.stderr)
    stop.told = True
    return end_by_sigterm()


def entry() -> int:
    """The ``agent-monitor`` program (and ``python -m agent_monitor``): :func:`main` with the
    program's stops, then the way out (:func:`exiting.exit_on_stop`). Not in :func:`main` itself,
    which tests call in their own process."""
    from agent_monitor.cli.exiting import exit_on_stop

    stops = StopSignals(program=True)
    try:
        status = main(stops=stops)
    except KeyboardInterrupt:  # a stop that landed as main ended, after its command had
        if stops.terminated:
            return end_by_sigterm() if stops.told else _tell_terminated(stops)
        status = INTERRUPTED_STATUS if stops.told else _tell_interrupted(stops)
    exit_on_stop(status, stops)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(entry())
