"""The server's memory allocator and huge pages, chosen before the process starts.

Vosk (Kaldi) decodes with many small allocations: every token and lattice link of the search is a
``new``/``delete``, tens of thousands per second of audio and leg. A server decodes many legs in
turn on a few threads, and with glibc's allocator the blocks of different legs end up interleaved
on the heap, so each leg's search walks memory scattered over many pages. jemalloc keeps blocks
of one size class together in slabs. Measured (8 legs of the SpokenWOZ call, 40 s each, decoded in
turn 0.1 s at a time on one thread, static graph, 2-core VM, three alternating rounds): **57.6 /
56.4 / 48.1 ms of CPU per second of audio with glibc** (huge pages on), **38.4 / 37.8 / 35.2 with
jemalloc, 36.6 / 37.3 / 31.4 with jemalloc and huge pages**; the same words either way (the
allocator does not touch the arithmetic). The whole live server: README "Capacity".

``server.allocator``: ``auto`` (jemalloc where Debian's ``libjemalloc2`` is installed, glibc's
otherwise), ``jemalloc`` (required: a clear error without it) or ``glibc``. ``server.huge_pages``
asks the chosen allocator for transparent huge pages for its memory (Vosk's 225 MB graph and the
recognizers; the kernel's THP mode ``madvise`` is enough): jemalloc's ``thp:always``, or glibc's
``glibc.malloc.hugetlb=1`` tunable.

Both are read only when a process starts (jemalloc through ``LD_PRELOAD``, its options from
``MALLOC_CONF``; glibc's tunables from ``GLIBC_TUNABLES``), so :func:`restart_with_heap` starts the
running command again, once, in the same process (``os.execve``: same PID, same arguments, the
environment plus these variables) before anything heavy is loaded. Processes it starts (speech
workers) inherit the environment. A process started with the variables already set is not started
again, whether or not they took effect (the dynamic loader warns and goes on without a library it
cannot preload).
"""

from __future__ import annotations

import ctypes.util
import os
import platform
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from agent_monitor.errors import ConfigError
from agent_monitor.settings.server import Allocator

TUNABLE = "glibc.malloc.hugetlb=1"
JEMALLOC_THP = "thp:always"
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


def find_jemalloc() -> str | None:
    """jemalloc's library name as the dynamic loader finds it (``libjemalloc.so.2``), or ``None``."""
    return ctypes.util.find_library("jemalloc")


def _on_glibc_linux() -> bool:
    return sys.platform == "linux" and platform.libc_ver()[0] == "glibc"


def chosen(allocator: Allocator, jemalloc: str | None) -> str | None:
    """The library to preload for ``allocator`` (``None``: glibc's own allocator); ``jemalloc``
    is the library found (:func:`find_jemalloc`). Raises :class:`ConfigError` when jemalloc is
    required and not installed."""
    if allocator == "glibc" or not _on_glibc_linux():
        if allocator == "jemalloc":
            raise ConfigError("server.allocator = jemalloc works only on Linux with glibc")
        return None
    if jemalloc is None and allocator == "jemalloc":
        raise ConfigError(
            "server.allocator = jemalloc, but libjemalloc.so.2 is not installed "
            "(Debian: apt-get install libjemalloc2; or set server.allocator = auto)"
        )
    return jemalloc


def _add(value: str, item: str, sep: str) -> str:
    """``value`` (a list joined by ``sep``) with ``item`` appended unless it is there already
    (``LD_PRELOAD`` may also separate by spaces)."""
    if not value:
        return item
    return value if item in re.split(f"[{re.escape(sep)} ]", value) else f"{value}{sep}{item}"


def heap_environment(
    environ: Mapping[str, str], preload: str | None, huge_pages: bool, thp: str | None
) -> dict[str, str]:
    """``environ`` with what the heap needs: ``preload`` (a library name) in ``LD_PRELOAD``, and
    with ``huge_pages`` where the kernel has THP (``thp``, :func:`thp_mode`) the allocator's
    huge-page option (jemalloc: ``thp:always`` in ``MALLOC_CONF``; glibc: the tunable)."""
    env = dict(environ)
    if preload is not None:
        env["LD_PRELOAD"] = _add(env.get("LD_PRELOAD", ""), preload, ":")
    if huge_pages and thp in ("always", "madvise"):
        if preload is not None:
            conf = env.get("MALLOC_CONF", "")
            if "thp:" not in conf:  # an operator's own thp setting wins
                env["MALLOC_CONF"] = _add(conf, JEMALLOC_THP, ",")
        else:
            env["GLIBC_TUNABLES"] = _add(env.get("GLIBC_TUNABLES", ""), TUNABLE, ":")
    return env


def restart_with_heap(allocator: Allocator, huge_pages: bool) -> None:
    """Start this command again with the heap's environment (does not return), unless it is set
    already or there is nothing to set (then return at once)."""
    preload = chosen(allocator, find_jemalloc() if allocator != "glibc" else None)
    wanted = heap_environment(os.environ, preload, huge_pages and _on_glibc_linux(), thp_mode())
    if wanted == dict(os.environ):
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, list(sys.orig_argv), wanted)
