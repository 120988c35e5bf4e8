"""Heap trimming when a process goes idle: real glibc ``malloc_trim`` on memory really freed."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import os

import pytest

from agent_monitor.heap_trim import HeapTrimmer

pytestmark = pytest.mark.asyncio  # the project runs on glibc (Debian): these tests need it


def resident_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def churn_heap(blocks: int = 60_000, size: int = 2048) -> None:
    """Allocate and touch ~120 MiB in small blocks (heap, not mmap), then free all but the last:
    the freed pages stay resident in the arena until trimmed (the last block pins the heap's top)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    ptrs = [libc.malloc(size) for _ in range(blocks)]
    for p in ptrs:
        ctypes.memset(p, 1, size)
    for p in ptrs[:-1]:
        libc.free(p)


async def test_idle_trim_gives_freed_heap_back() -> None:
    trimmer = HeapTrimmer()
    assert trimmer.available
    churn_heap()
    before = resident_mib()
    future = trimmer.idle()
    assert future is not None
    await future
    assert trimmer.trims == 1
    assert before - resident_mib() > 60  # most of the ~120 MiB freed went back


async def test_trims_are_rate_limited_and_can_be_off() -> None:
    now = [0.0]
    trimmer = HeapTrimmer(min_interval_s=10.0, clock=lambda: now[0])
    first = trimmer.idle()
    assert first is not None
    await first
    now[0] = 5.0
    assert trimmer.idle() is None  # too soon
    now[0] = 10.5
    again = trimmer.idle()
    assert again is not None
    await again
    assert trimmer.trims == 2
    off = HeapTrimmer(enabled=False)
    assert not off.available and off.idle() is None


async def test_only_one_trim_runs_at_a_time() -> None:
    trimmer = HeapTrimmer(min_interval_s=0.0)
    first = trimmer.idle()
    assert first is not None
    assert trimmer.idle() is None  # still running (or just scheduled)
    await first
    await asyncio.sleep(0)
    second = trimmer.idle()
    assert second is not None
    await second
