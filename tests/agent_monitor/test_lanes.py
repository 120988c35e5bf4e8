"""The worker threads' two lanes: urgent work first, deferred work in the lulls, everything counted."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from agent_monitor.lanes import LaneExecutor


def test_urgent_jobs_overtake_deferred_ones_queued_before_them() -> None:
    ex = LaneExecutor(1)
    order: list[str] = []
    gate = threading.Event()
    try:
        ex.submit(gate.wait)  # occupies the only thread while the rest is queued
        deferred = [ex.submit_deferred(order.append, f"d{i}") for i in range(3)]
        urgent = [ex.submit(order.append, f"u{i}") for i in range(3)]
        gate.set()
        for f in [*deferred, *urgent]:
            f.result(timeout=5)
    finally:
        ex.shutdown()
    assert order == ["u0", "u1", "u2", "d0", "d1", "d2"]


def test_counts_jobs_waits_and_cpu_per_lane() -> None:
    ex = LaneExecutor(2)

    def spin(seconds: float) -> float:
        end = time.thread_time() + seconds
        while time.thread_time() < end:
            pass
        return seconds

    try:
        assert [f.result(5) for f in [ex.submit(spin, 0.05) for _ in range(4)]] == [0.05] * 4
        assert ex.submit_deferred(spin, 0.02).result(5) == 0.02
        urgent, deferred = ex.stats()
    finally:
        ex.shutdown()
    assert (urgent.lane, urgent.jobs, deferred.lane, deferred.jobs) == ("urgent", 4, "deferred", 1)
    assert 0.2 <= urgent.cpu_s < 0.4 and urgent.ran_s >= urgent.cpu_s
    assert urgent.max_wait_s > 0 and urgent.queued == 0
    assert deferred.to_dict()["jobs"] == 1 and deferred.cpu_s >= 0.02


def test_errors_reach_the_caller_and_asyncio_can_wait_on_both_lanes() -> None:
    ex = LaneExecutor(2)

    def boom() -> None:
        raise ValueError("bad input")

    async def main() -> tuple[int, int]:
        loop = asyncio.get_running_loop()
        with pytest.raises(ValueError, match="bad input"):
            await loop.run_in_executor(ex, boom)
        a = await loop.run_in_executor(ex, sum, [1, 2])
        b = await asyncio.wrap_future(ex.submit_deferred(len, "abcd"))
        return a, b

    try:
        assert asyncio.run(main()) == (3, 4)
    finally:
        ex.shutdown()
    with pytest.raises(RuntimeError, match="shutdown"):
        ex.submit(len, "x")


def test_shutdown_can_cancel_what_is_still_queued() -> None:
    ex = LaneExecutor(1)
    started, gate = threading.Event(), threading.Event()

    def hold() -> bool:
        started.set()
        return gate.wait(5)

    running = ex.submit(hold)
    assert started.wait(5)
    queued = ex.submit_deferred(len, "never")
    ex.shutdown(wait=False, cancel_futures=True)
    gate.set()
    assert running.result(5) is True
    assert queued.cancelled()


def test_a_deferred_job_waiting_past_the_limit_goes_before_newer_urgent_ones() -> None:
    ex = LaneExecutor(1, promote_after_s=0.1)
    order: list[str] = []
    gate = threading.Event()
    try:
        ex.submit(gate.wait, 5)
        late = ex.submit_deferred(order.append, "deferred")
        time.sleep(0.2)  # the deferred job has now waited past the limit
        urgent = ex.submit(order.append, "urgent")
        gate.set()
        late.result(5)
        urgent.result(5)
    finally:
        ex.shutdown()
    assert order == ["deferred", "urgent"]
