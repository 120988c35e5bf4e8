"""Every benchmark script starts the way README runs it: ``python benchmarks/NAME.py`` from the repo root.

``test_benchmarks_import`` imports each file as the module ``benchmarks.NAME``, with the repo root
already on ``sys.path``, so it cannot see a script that imports ``benchmarks.X`` (or ``tests.X``)
without putting the root there itself: run as a file, Python puts ``benchmarks/`` first on
``sys.path``, not the root, and ``bench_asr_cost.py``, ``bench_decoder_ab.py``,
``bench_static_graph.py`` and ``attack_memory.py`` failed at their first line with
``ModuleNotFoundError``. Here each script with a ``__main__`` block runs with ``--help`` in a child
process as a user runs it: the same interpreter, cwd the repo root and no ``PYTHONPATH`` (the suite
is run with ``PYTHONPATH=$PWD``, which would hide the bug). The project's packages then resolve the
way they do for a user, through the installed (editable) package or the root the script puts first.
``--help`` stops at argument parsing, so this runs imports only, no benchmark.

The check is only as good as the child's ``sys.path``: if something other than the script (a
``.pth`` file, a ``PYTHONPATH`` the test did not remove) made ``benchmarks`` importable, every
script would pass whatever it does; ``test_the_root_is_not_on_the_path_by_itself`` fails then.
A script that imports only the installed packages starts either way, but with another checkout's
editable install (git worktrees sharing one venv) it runs that checkout's code;
``test_benchmark_scripts_run_this_checkout`` checks that each script puts its own root first.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from agent_monitor.settings import REPO_ROOT

SCRIPTS = sorted(
    path
    for path in (REPO_ROOT / "benchmarks").rglob("*.py")
    if re.search(r'^if __name__ == "__main__":', path.read_text(encoding="utf-8"), re.MULTILINE)
)

# the packages a checkout holds at its root (pyproject's, plus the two trees the scripts import from)
PROJECT = {"agent_monitor", "asr", "emotion", "qa_rules", "web", "benchmarks", "tests"}


def user_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}


def run_help(script: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script.relative_to(REPO_ROOT)), "--help"],
        cwd=REPO_ROOT,
        env=user_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_scripts_are_found() -> None:
    names = {path.name for path in SCRIPTS}
    assert {"bench_asr_cost.py", "sweep_decoder.py", "bench_live.py"} <= names, names
    assert "asr_cost_probe.py" not in names  # a helper module the scripts import, no __main__
    assert len(SCRIPTS) >= 20, names


def test_the_root_is_not_on_the_path_by_itself() -> None:
    # -P: the child puts neither cwd nor a script's folder first, so this is the path every script
    # starts from, less its own folder; the repo's benchmarks/ must not be importable from it
    probe = (
        "import importlib.util; spec = importlib.util.find_spec('benchmarks'); "
        "print(*(spec.submodule_search_locations or []) if spec else [], sep='\\n')"
    )
    found = subprocess.run(
        [sys.executable, "-P", "-c", probe],
        cwd=REPO_ROOT,
        env=user_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    assert str(REPO_ROOT / "benchmarks") not in [str(Path(p).resolve()) for p in found], (
        "the repo root is on sys.path without PYTHONPATH, so test_benchmark_scripts_run cannot tell "
        f"whether a script puts it there itself: {found}"
    )


def test_benchmark_scripts_run() -> None:
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        results = list(pool.map(run_help, SCRIPTS))
    failed = [
        f"{script.relative_to(REPO_ROOT)}: exit {result.returncode}\n{result.stderr.strip()[-600:]}"
        for script, result in zip(SCRIPTS, results, strict=True)
        if result.returncode != 0 or not result.stdout.startswith(f"usage: {script.name}")
    ]
    assert not failed, "\n\n".join(failed)


def puts_root_first(tree: ast.Module) -> bool | None:
    """Whether a top-level ``sys.path.insert(0, ...)`` comes before the first project import."""
    for node in tree.body:
        if isinstance(node, ast.Expr) and ast.unparse(node.value).startswith("sys.path.insert(0, "):
            return True
        names = (
            [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else []
        )
        if any(name.split(".")[0] in PROJECT for name in names):
            return False
    return None


def test_benchmark_scripts_run_this_checkout() -> None:
    # The run above passes for a script that imports only the installed packages: with an editable
    # install of another checkout (a git worktree sharing one venv), such a script measures that
    # checkout's code, not this one's. Each script puts its own repo root first, as README runs it.
    missing = [
        str(script.relative_to(REPO_ROOT))
        for script in SCRIPTS
        if puts_root_first(ast.parse(script.read_text(encoding="utf-8"))) is False
    ]
    assert not missing, missing
