"""Every benchmark script and module under ``benchmarks/`` imports against the code as it is now.

The benchmarks are run by hand (README names each command), not by the suite, so a rename in the
packages they use went unnoticed until someone ran one: ``sweep_decoder.py`` imported a function of
``asr.offline.evaluate`` that had been renamed and failed at its first line. Importing a module
runs its top level only (each script's work sits behind ``if __name__ == "__main__"``, the capacity
modules' behind their functions), so this is cheap and runs no benchmark.
"""

from __future__ import annotations

import importlib
import sys

import pytest

from agent_monitor.settings import REPO_ROOT

MODULES = sorted(
    ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts)
    for path in (REPO_ROOT / "benchmarks").rglob("*.py")
    if path.name != "__init__.py"
)


def test_the_benchmarks_are_found() -> None:
    assert "benchmarks.sweep_decoder" in MODULES and "benchmarks.capacity.run" in MODULES
    assert len(MODULES) >= 30, MODULES


@pytest.mark.parametrize("name", MODULES)
def test_benchmark_imports(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # a script imports its siblings as ``benchmarks.X`` (as mypy checks them), not by bare name
    monkeypatch.setattr(sys, "argv", [name])
    module = importlib.import_module(name)
    assert module.__name__ == name
