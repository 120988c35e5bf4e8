"""Heap trimming when a process stays idle: real glibc ``malloc_trim`` on memory really freed."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import os
import sys

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


JEMALLOC_CHILD = """
import asyncio, ctypes, os
from agent_monitor.heap_trim import HeapTrimmer

def resident_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

assert hasattr(ctypes.CDLL(None), "mallctl"), "jemalloc is not the allocator"
libc = ctypes.CDLL(None)  # the process's malloc/free: the preloaded jemalloc's
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
ptrs = [libc.malloc(2048) for _ in range(60_000)]
for p in ptrs:
    ctypes.memset(p, 1, 2048)
for p in ptrs[:-1]:
    libc.free(p)

async def main():
    before = resident_mib()
    await asyncio.sleep(0.3)
    kept = resident_mib()
    trimmer = HeapTrimmer(delay_s=0.0 if os.environ["TRIM"] == "1" else None)
    trimmer.idle()
    for _ in range(250):
        if trimmer.trims:
            break
        await asyncio.sleep(0.02)
    print(round(before - kept, 1), round(kept - resident_mib(), 1), trimmer.trims)

asyncio.run(main())
"""


@pytest.mark.parametrize("trim", [True, False])
async def test_under_jemalloc_the_idle_trim_purges_its_arenas(trim: bool) -> None:
    """In a process on jemalloc (what ``serve`` runs on, :mod:`agent_monitor.allocator`), freed
    memory stays resident (decay off here, so nothing purges it by time) until the trimmer purges
    jemalloc's arenas."""
    from agent_monitor.allocator import find_jemalloc

    jemalloc = find_jemalloc()
    assert jemalloc is not None, "libjemalloc2 is installed by scripts/setup.sh"
    env = {
        **os.environ,
        "LD_PRELOAD": jemalloc,
        "MALLOC_CONF": "dirty_decay_ms:-1,muzzy_decay_ms:-1",
        "TRIM": "1" if trim else "0",
    }
    pipe = asyncio.subprocess.PIPE
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", JEMALLOC_CHILD, env=env, stdout=pipe, stderr=pipe
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    lost_by_itself, trimmed_mib, trims = (float(x) for x in out.split())
    assert lost_by_itself < 10  # nothing went back without a trim
    if trim:
        assert trims == 1 and trimmed_mib > 60  # most of the ~120 MiB freed went back
    else:
        assert trims == 0 and trimmed_mib < 10
