"""The options and inputs every part of the capacity benchmark shares, and the search on nodes."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.settings import Settings
from benchmarks.capacity import calls as callsets
from benchmarks.capacity.keepup import RunResult, Search, parse_levels, search_max
from benchmarks.capacity.report import report_run, summary
from benchmarks.capacity.run import run_calls, wait_idle
from benchmarks.capacity.server import Node

WARMUP_PER_NODE = 16


class Bench:
    """The options and the inputs every part shares."""

    def __init__(self, args: argparse.Namespace, settings: Settings, tmp: Path) -> None:
        self.args, self.settings, self.tmp = args, settings, tmp
        self.data = args.data or settings.eval_data_dir
        self.tts_cache = args.tts_cache or settings.data_dir / "tts-cache"
        self.levels = parse_levels(args.levels)
        self.serial = 0
        #: pids (by name) of processes besides the servers whose CPU each run reports
        self.others: dict[str, int] = {}

    def calls(self, call_set: str, n: int) -> list[CallAudio]:
        return callsets.build(call_set, self.data, self.tts_cache, n, self.args.duration)

    def fresh_dir(self, name: str) -> Path:
        self.serial += 1
        return self.tmp / f"{self.serial:02d}-{name}"

    def warm_up(self, nodes: list[Node]) -> None:
        """SYNTHETIC short calls, not measured, as many as the largest level (at most 16 per node:
        32 legs, as many as the server's spare recognizers): each spare serves a leg once."""
        n = min(max(self.levels), WARMUP_PER_NODE * len(nodes))
        asyncio.run(run_calls(nodes, callsets.warmup_calls(n), f"warm{self.serial}"))
        for node in nodes:
            asyncio.run(wait_idle(node))

    def search(self, name: str, nodes: list[Node], call_set: str, levels: list[int] | None = None) -> Search:
        """The search over ``levels`` (default ``--levels``) on ``nodes``."""

        def one(n: int) -> RunResult:
            self.serial += 1
            calls = self.calls(call_set, n)
            r = asyncio.run(run_calls(nodes, calls, f"{self.serial}", others=self.others))
            report_run(r, f"{name}: ")
            return r

        found = search_max(self.levels if levels is None else levels, one)
        print(summary(name, found))
        return found
