"""Which OpenBLAS kernels Vosk's acoustic model runs on.

Vosk's wheel links an OpenBLAS built for many CPUs (``DYNAMIC_ARCH``) that picks its matrix
kernels from the CPU model when ``libvosk`` is loaded. On an AMD Zen 4 (which has AVX-512) that
OpenBLAS takes its Zen kernels (AVX2). ``OPENBLAS_CORETYPE=SKYLAKEX`` makes it use its AVX-512
kernels instead. Measured on this project's 2-core AMD EPYC (Zen 4) VM, SpokenWOZ call, first 60 s
of both legs, warm recognizers, static graph, alternating runs
(``benchmarks/bench_asr_cost.py --dialogues 0 --seconds 60``): Vosk's AcceptWaveform 29.3 / 27.8
ms of CPU per second of leg audio against 32.8 / 31.3 with OpenBLAS's own choice (and 31.9 / 32.0
with ZEN forced); the keyword second pass 14.3 / 13.7 against 15.2 / 16.7. The whole call's words
(both legs, 380): one word differs (an inserted "all").

The environment variable is read once, when the library is loaded, so :func:`choose_kernels` runs
before the first model is loaded (:func:`asr.model_loading.load_language_model`). Kernels a CPU
lacks would crash the process (illegal instruction), so ``auto`` asks for AVX-512 kernels only
on a CPU that has every AVX-512 subset they use; a value set in the environment is never
replaced.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

log = logging.getLogger(__name__)

ENV = "OPENBLAS_CORETYPE"
#: the AVX-512 subsets OpenBLAS's SKYLAKEX kernels use
AVX512 = frozenset({"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"})


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The first CPU's feature flags (empty where ``/proc/cpuinfo`` is not readable)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def coretype_for(setting: str, flags: frozenset[str]) -> str | None:
    """The OpenBLAS core type ``setting`` asks for on a CPU with ``flags`` (``None``: OpenBLAS's
    own choice). ``auto``: ``SKYLAKEX`` where the CPU has AVX-512; ``library``: none; anything
    else is an OpenBLAS core name, used as given."""
    choice = setting.strip()
    if choice.lower() == "auto":
        return "SKYLAKEX" if flags >= AVX512 else None
    if choice.lower() in ("library", ""):
        return None
    return choice.upper()


def choose_kernels(setting: str) -> str | None:
    """Set ``OPENBLAS_CORETYPE`` for ``libvosk`` as ``setting`` says (see :func:`coretype_for`),
    unless the environment sets it already or Vosk is loaded (then it is too late); returns the
    core type in effect as far as this process knows."""
    if ENV in os.environ or "vosk" in sys.modules:
        return os.environ.get(ENV)
    coretype = coretype_for(setting, cpu_flags())
    if coretype is not None:
        os.environ[ENV] = coretype
        log.info("OpenBLAS kernels for Vosk: %s", coretype)
    return coretype
