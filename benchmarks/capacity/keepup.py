"""What "kept up" means, the search over N, and the statistics (pure: no server, no clock).

A call *keeps up* when its recognition lag (audio received minus audio processed, worst leg, polled
every 0.5 s) stayed below :data:`MAX_LAG_S` throughout, no audio was dropped and its stream closed
normally. A run keeps up when every call did. The search runs concurrencies in increasing order and
stops at the first that does not keep up; the result is the largest N that did.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAX_LAG_S = 1.0
ALERT_TYPES = ("agent_warning", "alert_raised")


@dataclass
class RunResult:
    """What one run of N concurrent calls measured (filled in while the run goes)."""

    calls: int
    max_lag: dict[str, float] = field(default_factory=dict)
    lag_samples: list[float] = field(default_factory=list)
    #: (call, call time received, lag) of every poll that saw a call 1 s or more behind
    lag_events: list[tuple[str, float, float]] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)
    latencies: dict[str, list[float]] = field(default_factory=lambda: {t: [] for t in ALERT_TYPES})
    missed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ALERT_TYPES, 0))
    loop_lag: dict[str, Any] = field(default_factory=dict)
    #: server CPU seconds (process tree, all nodes) over the run, and the run's wall seconds
    cpu_s: float = 0.0
    wall_s: float = 0.0
    #: seconds of audio per leg streamed by all calls together (both legs counted)
    leg_seconds: float = 0.0
    #: CPU seconds over the run of what shares the cores with the server: the benchmark client
    #: itself, and (nodes part) redis-server
    others_cpu_s: dict[str, float] = field(default_factory=dict)
    rss_idle_mib: float = 0.0
    rss_peak_mib: float = 0.0
    failed_streams: list[str] = field(default_factory=list)
    #: the server threads' lanes over the run (``agent_monitor.lanes``), summed over nodes:
    #: lane -> jobs, waited_s, cpu_s, ran_s
    lanes: dict[str, dict[str, float]] = field(default_factory=dict)
    #: the first node's busiest threads over the run: (name, % of wall on a CPU, % waiting for one)
    threads: list[tuple[str, float, float]] = field(default_factory=list)

    @property
    def kept_up(self) -> bool:
        return kept_up(self.max_lag, self.dropped, self.failed_streams, self.calls)

    @property
    def cpu_pct_per_call(self) -> float:
        return self.cpu_s / self.wall_s / self.calls * 100 if self.wall_s and self.calls else 0.0

    @property
    def rss_mib_per_call(self) -> float:
        return max(0.0, self.rss_peak_mib - self.rss_idle_mib) / self.calls if self.calls else 0.0


def kept_up(max_lag: dict[str, float], dropped: dict[str, int], failed: Sequence[str], calls: int) -> bool:
    """Every one of ``calls`` calls was seen, stayed < 1 s behind, dropped nothing and closed well."""
    return (
        not failed
        and len(max_lag) >= calls
        and all(v < MAX_LAG_S for v in max_lag.values())
        and not any(dropped.values())
    )


def lane_delta(
    before: Sequence[dict[str, Any]], after: Sequence[dict[str, Any]]
) -> dict[str, dict[str, float]]:
    """The lanes' counters of ``/api/metrics`` after a run minus before it, summed over nodes (a
    server without lanes reports none)."""
    out: dict[str, dict[str, float]] = {}
    for b, a in zip(before, after, strict=True):
        for lane, now in a.get("lanes", {}).items():
            was = b.get("lanes", {}).get(lane, {})
            sums = out.setdefault(lane, dict.fromkeys(("jobs", "waited_s", "cpu_s", "ran_s"), 0.0))
            for key in sums:
                sums[key] += float(now.get(key, 0.0)) - float(was.get(key, 0.0))
    return out


Clock = dict[int, tuple[float, float]]


def thread_shares(
    before: Clock, after: Clock, wall_s: float, main: int, top: int = 4
) -> list[tuple[str, float, float]]:
    """The ``top`` threads by CPU between two :func:`~benchmarks.capacity.server.thread_clock`
    readings: name (``main`` for the thread ``main``, else ``tTID``), % of ``wall_s`` on a CPU and
    % waiting in the run queue. A thread whose two shares add up to ~100% was never idle."""
    if wall_s <= 0:
        return []
    rows = []
    for tid, (cpu, waited) in after.items():
        cpu0, waited0 = before.get(tid, (0.0, 0.0))
        name = "main" if tid == main else f"t{tid}"
        rows.append((name, 100 * (cpu - cpu0) / wall_s, 100 * (waited - waited0) / wall_s))
    return sorted(rows, key=lambda r: -r[1])[:top]


def ramp(start: int, stop: int, steps: Sequence[int] = (4, 2)) -> list[int]:
    """Concurrencies to try from ``start`` to ``stop``: the first step, then finer ones.

    ``ramp(8, 24)`` is 8, 12, 14, 16, ..., 24: ``steps[0]`` once, then ``steps[-1]`` onwards."""
    if start < 1 or stop < start:
        raise ValueError(f"bad ramp {start}..{stop}")
    out, n, i = [start], start, 0
    while True:
        n += steps[min(i, len(steps) - 1)]
        i += 1
        if n > stop:
            return out
        out.append(n)


def parse_levels(text: str) -> list[int]:
    """``"8,12,14"`` (in that order) or ``"8-20"`` (:func:`ramp`)."""
    text = text.strip()
    if "-" in text and "," not in text:
        a, b = text.split("-", 1)
        return ramp(int(a), int(b))
    levels = [int(x) for x in text.split(",") if x.strip()]
    if not levels or any(n < 1 for n in levels) or levels != sorted(set(levels)):
        raise ValueError(f"levels must be increasing positive integers: {text!r}")
    return levels


@dataclass(frozen=True)
class Search:
    """The outcome of a search over N: the largest N kept up (0: none) and every run's result."""

    best: int
    runs: tuple[tuple[int, Any], ...]

    @property
    def first_failure(self) -> int | None:
        return self.runs[-1][0] if self.runs and self.best != self.runs[-1][0] else None


def search_max(
    levels: Iterable[int], run: Callable[[int], Any], ok: Callable[[Any], bool] = lambda r: r.kept_up
) -> Search:
    """Run ``run(n)`` for each level in order and stop at the first one not ``ok``."""
    best, runs = 0, []
    for n in levels:
        result = run(n)
        runs.append((n, result))
        if not ok(result):
            break
        best = n
    return Search(best, tuple(runs))


def percentile(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if len(values) else None


def fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def lag_windows(events: Iterable[tuple[str, float, float]], width_s: float = 10.0) -> dict[int, int]:
    """How many polls saw a call >= 1 s behind, per window of call time (window start -> count)."""
    out: dict[int, int] = {}
    for _, received, _ in events:
        start = int(received // width_s * width_s)
        out[start] = out.get(start, 0) + 1
    return dict(sorted(out.items()))


def legs_per_core(cpu_s: float, leg_seconds: float) -> float | None:
    """Real-time legs one core carries at this cost: leg-seconds of audio per CPU-second."""
    return leg_seconds / cpu_s if cpu_s > 0 else None


def ratio(ours: float | None, theirs: float | None) -> float | None:
    return ours / theirs if ours is not None and theirs else None


def levels_from(levels: Sequence[int], floor: int) -> list[int]:
    """The levels at or above ``floor`` (all of them when none is): a search on more nodes starts
    where the search on fewer stopped keeping up, one level below (measured again)."""
    return [n for n in levels if n >= floor] or list(levels)


def split_round_robin(n: int, nodes: int) -> list[int]:
    """Which node each of ``n`` calls goes to: call i to node i mod ``nodes``."""
    if nodes < 1:
        raise ValueError("at least one node")
    return [i % nodes for i in range(n)]


def burst_stagger(n: int, within_s: float = 4.0, default_s: float = 0.25) -> float:
    """Seconds between call starts so that ``n`` calls all start within ``within_s``."""
    return min(default_s, within_s / n) if n > 1 else 0.0
