"""Heap trimming when a process stays idle: real glibc ``malloc_trim`` on memory really freed."""

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


async def trimmed(trimmer: HeapTrimmer, n: int, within_s: float = 5.0) -> bool:
    for _ in range(int(within_s / 0.02)):
        if trimmer.trims >= n:
            return True
        await asyncio.sleep(0.02)
    return False


async def test_idle_trim_gives_freed_heap_back() -> None:
    trimmer = HeapTrimmer(delay_s=0.0)
    assert trimmer.available
    churn_heap()
    before = resident_mib()
    trimmer.idle()
    assert await trimmed(trimmer, 1)
    assert before - resident_mib() > 60  # most of the ~120 MiB freed went back


async def test_trim_waits_for_the_delay_and_work_cancels_it() -> None:
    trimmer = HeapTrimmer(delay_s=0.3)
    trimmer.idle()
    assert trimmer.pending
    await asyncio.sleep(0.1)
    trimmer.busy()  # a call started before the delay ran out: no trim
    assert not trimmer.pending
    await asyncio.sleep(0.4)
    assert trimmer.trims == 0
    trimmer.idle()
    await asyncio.sleep(0.1)
    trimmer.idle()  # idle again (another call ended): the delay starts over
    await asyncio.sleep(0.25)
    assert trimmer.trims == 0
    assert await trimmed(trimmer, 1)


async def test_never_when_off() -> None:
    off = HeapTrimmer(None)
    off.idle()
    assert not off.available and not off.pending
