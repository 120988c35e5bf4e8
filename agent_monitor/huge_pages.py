"""Transparent huge pages for the server's heap, asked of glibc before the process starts.

Vosk keeps its decoding graph (the static ``HCLG.fst``: about 225 MB) and every recognizer's
decoder state on the C++ heap and walks them at random. With 4 KiB pages, a server whose threads
decode many legs in turn spends a noticeable share of Vosk's CPU on TLB misses. glibc (2.35 and
later) can mark the memory it takes from the kernel for transparent huge pages
(``GLIBC_TUNABLES=glibc.malloc.hugetlb=1``; the kernel's THP mode ``madvise`` is enough), but
tunables are read only when a process starts. So :func:`restart_with_huge_pages` starts the
running command again, once, in the same process (``os.execve``: same PID, same arguments, same
environment plus the tunable), before anything heavy is loaded.

Measured (``benchmarks/bench_asr_cost.py`` is one leg at a time; this was 16 legs of the SpokenWOZ
call decoded in turn on one thread, 0.1 s each, static graph, 2-core VM, alternating runs): 61.7 /
61.6 ms of CPU per second of audio with the tunable against 67.7 / 72.3 without. Memory of an idle
server: 518 vs 517 MiB just started (``benchmarks/serve_rss.sh``), 640 vs 635 MiB after the live
benchmark's traffic (README "Capacity").
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Mapping
from pathlib import Path

TUNABLE = "glibc.malloc.hugetlb=1"
THP_MODE = Path("/sys/kernel/mm/transparent_hugepage/enabled")


def thp_mode(path: Path = THP_MODE) -> str | None:
    """The kernel's transparent-huge-page mode (``always``, ``madvise``, ``never``), if it has THP."""
    try:
        text = path.read_text()
    except OSError:
        return None
    for word in text.split():
        if word.startswith("[") and word.endswith("]"):
            return word[1:-1]
    return None


def wanted(environ: Mapping[str, str]) -> bool:
    """Whether the tunable would take effect here and is not set yet."""
    if sys.platform != "linux" or platform.libc_ver()[0] != "glibc":
        return False
    if thp_mode() not in ("always", "madvise"):
        return False
    return TUNABLE not in environ.get("GLIBC_TUNABLES", "").split(":")


def with_tunable(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` with the huge-page tunable added to any tunables already set."""
    env = dict(environ)
    current = env.get("GLIBC_TUNABLES", "")
    env["GLIBC_TUNABLES"] = f"{current}:{TUNABLE}" if current else TUNABLE
    return env


def restart_with_huge_pages() -> None:
    """Start this command again with the tunable (does not return), unless it is set already or
    would do nothing here (then return at once)."""
    if not wanted(os.environ):
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, list(sys.orig_argv), with_tunable(os.environ))
