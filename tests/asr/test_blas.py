"""OpenBLAS kernels for Vosk: AVX-512 ones only on a CPU that has them, never over the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from asr.blas import AVX512, coretype_for, cpu_flags

REPO = Path(__file__).resolve().parents[2]


def test_auto_asks_for_avx512_kernels_only_where_every_subset_is_there() -> None:
    assert coretype_for("auto", AVX512 | {"avx2", "fma"}) == "SKYLAKEX"
    assert coretype_for("auto", (AVX512 - {"avx512bw"}) | {"avx2"}) is None
    assert coretype_for("library", AVX512) is None
    assert coretype_for("haswell", frozenset()) == "HASWELL"


def test_the_flags_are_read_from_cpuinfo(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f\n\nprocessor\t: 1\nflags\t: fpu\n")
    assert cpu_flags(info) == {"fpu", "sse2", "avx2", "avx512f"}
    assert cpu_flags(tmp_path / "absent") == frozenset()


def _chosen(extra_env: dict[str, str]) -> str:
    """What a fresh process chooses before Vosk is loaded, the kernels the library then says it
    runs (``gotoblas_corename`` of the OpenBLAS inside ``libvosk.so``), and what it chooses after."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"} | extra_env
    code = (
        "import ctypes, os; from asr.blas import choose_kernels;"
        "first = choose_kernels('auto'); import vosk;"
        "lib = ctypes.CDLL(os.path.join(os.path.dirname(vosk.__file__), 'libvosk.so'));"
        "lib.gotoblas_corename.restype = ctypes.c_char_p;"
        "os.environ.pop('OPENBLAS_CORETYPE', None);"
        "print(first, lib.gotoblas_corename().decode(), choose_kernels('auto'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_a_fresh_process_gets_the_kernels_its_cpu_has() -> None:
    chosen, running, after = _chosen({"PYTHONPATH": str(REPO)}).split()
    if cpu_flags() >= AVX512:
        assert (chosen, running) == ("SKYLAKEX", "SkylakeX")
    else:
        assert chosen == "None"
    assert after == "None"  # too late once vosk is loaded: nothing is set


def test_the_environment_wins() -> None:
    assert _chosen({"PYTHONPATH": str(REPO), "OPENBLAS_CORETYPE": "HASWELL"}).split() == [
        "HASWELL",
        "Haswell",
        "None",
    ]
