"""The capacity benchmark's pure parts: the keep-up decision, the search over N, the statistics."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest

from benchmarks.capacity.keepup import (
    RunResult,
    burst_stagger,
    kept_up,
    lag_windows,
    lane_delta,
    legs_per_core,
    levels_from,
    parse_levels,
    percentile,
    ramp,
    ratio,
    search_max,
    split_round_robin,
    thread_shares,
)
from benchmarks.capacity.peer_part import expand_cpus
from benchmarks.capacity.server import thread_clock


def test_a_call_keeps_up_only_below_one_second_without_drops_or_failures() -> None:
    assert kept_up({"a": 0.2, "b": 0.99}, {"a": 0, "b": 0}, [], 2)
    assert not kept_up({"a": 0.2, "b": 1.0}, {}, [], 2)  # 1 s behind is behind
    assert not kept_up({"a": 0.2, "b": 0.3}, {"a": 0, "b": 3}, [], 2)  # dropped audio
    assert not kept_up({"a": 0.2, "b": 0.3}, {}, ["b: 1011 internal error"], 2)
    assert not kept_up({"a": 0.2}, {}, [], 2)  # a call never seen on /api/live


def test_run_result_per_call_figures() -> None:
    r = RunResult(4, max_lag=dict.fromkeys("abcd", 0.5), cpu_s=60.0, wall_s=60.0)
    r.rss_idle_mib, r.rss_peak_mib = 1000.0, 1200.0
    assert r.kept_up
    assert r.cpu_pct_per_call == pytest.approx(25.0)
    assert r.rss_mib_per_call == pytest.approx(50.0)
    r.dropped["c"] = 1
    assert not r.kept_up


def test_ramp_takes_one_coarse_step_then_fine_ones() -> None:
    assert ramp(8, 20) == [8, 12, 14, 16, 18, 20]
    assert ramp(8, 13) == [8, 12]
    assert ramp(2, 2) == [2]
    with pytest.raises(ValueError):
        ramp(8, 4)


def test_levels_are_a_ramp_or_an_increasing_list() -> None:
    assert parse_levels("8-16") == [8, 12, 14, 16]
    assert parse_levels("2, 4,8") == [2, 4, 8]
    for bad in ("8,4", "0,2", "", "4,4"):
        with pytest.raises(ValueError):
            parse_levels(bad)


def test_search_stops_at_the_first_level_that_falls_behind() -> None:
    tried: list[int] = []

    def run(n: int) -> bool:
        tried.append(n)
        return n <= 14

    found = search_max([8, 12, 14, 16, 18], run, ok=bool)
    assert found.best == 14
    assert tried == [8, 12, 14, 16]
    assert found.first_failure == 16
    everything = search_max([2, 4], lambda n: True, ok=bool)
    assert (everything.best, everything.first_failure) == (4, None)
    nothing = search_max([8, 12], lambda n: False, ok=bool)
    assert (nothing.best, nothing.first_failure, len(nothing.runs)) == (0, 8, 1)


def test_statistics() -> None:
    assert percentile([], 95) is None
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 50) == pytest.approx(3.0)
    assert lag_windows([("a", 3.0, 1.2), ("b", 9.9, 1.5), ("a", 31.0, 2.0)]) == {0: 2, 30: 1}
    assert legs_per_core(10.0, 80.0) == pytest.approx(8.0)
    assert legs_per_core(0.0, 80.0) is None
    assert ratio(12.0, 8.0) == pytest.approx(1.5)
    assert ratio(12.0, None) is None and ratio(None, 8.0) is None


def test_calls_split_between_nodes_and_bursts_start_within_four_seconds() -> None:
    assert split_round_robin(5, 2) == [0, 1, 0, 1, 0]
    with pytest.raises(ValueError):
        split_round_robin(3, 0)
    assert burst_stagger(8) == pytest.approx(0.25)  # 8 calls: the usual 0.25 s, 1.75 s in all
    assert burst_stagger(32) * 31 < 4.0
    assert burst_stagger(1) == 0.0
    assert expand_cpus("0-2,5") == [0, 1, 2, 5]


def test_two_nodes_search_from_the_one_node_max_up() -> None:
    assert levels_from([3, 4, 5, 6, 8], 4) == [4, 5, 6, 8]
    assert levels_from([3, 4, 5], 0) == [3, 4, 5]  # one node kept up none: every level
    assert levels_from([3, 4, 5], 9) == [3, 4, 5]  # above every level: every level (never empty)


def test_lane_counters_are_taken_over_the_run_and_summed_over_nodes() -> None:
    before: list[dict[str, Any]] = [
        {"lanes": {"urgent": {"jobs": 10, "waited_s": 1.0, "cpu_s": 2.0, "ran_s": 3.0}}},
        {"lanes": {"urgent": {"jobs": 0, "waited_s": 0.0, "cpu_s": 0.0, "ran_s": 0.0}}},
    ]
    after: list[dict[str, Any]] = [
        {"lanes": {"urgent": {"jobs": 15, "waited_s": 1.5, "cpu_s": 2.5, "ran_s": 4.0}}},
        {
            "lanes": {
                "urgent": {"jobs": 5, "waited_s": 0.5, "cpu_s": 1.0, "ran_s": 1.0},
                "deferred": {"jobs": 2},
            }
        },
    ]
    assert lane_delta(before, after) == {
        "urgent": {"jobs": 10.0, "waited_s": 1.0, "cpu_s": 1.5, "ran_s": 2.0},
        "deferred": {"jobs": 2.0, "waited_s": 0.0, "cpu_s": 0.0, "ran_s": 0.0},
    }
    assert lane_delta([{}], [{"loop_lag": {}}]) == {}


def test_thread_shares_rank_threads_by_cpu_with_their_run_queue_wait() -> None:
    before = {100: (1.0, 0.5), 101: (2.0, 1.0), 102: (0.0, 0.0)}
    after = {100: (3.0, 2.5), 101: (9.0, 3.0), 102: (0.1, 0.0), 103: (0.5, 0.5)}
    assert thread_shares(before, after, 10.0, main=100, top=3) == [
        ("t101", 70.0, 20.0),
        ("main", 20.0, 20.0),
        ("t103", 5.0, 5.0),
    ]
    assert thread_shares(before, after, 0.0, main=100) == []


def test_thread_clock_reads_this_process() -> None:
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            pass

    spinner = threading.Thread(target=spin)
    spinner.start()
    try:
        clock = thread_clock(os.getpid())
    finally:
        stop.set()
        spinner.join()
    assert os.getpid() in clock and len(clock) >= 2
    assert all(cpu >= 0 and waited >= 0 for cpu, waited in clock.values())
