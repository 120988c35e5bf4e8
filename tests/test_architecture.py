"""The architecture of ARCHITECTURE.md, enforced by walking every import of the code (ast).

Every ``import`` and ``from ... import`` counts: at module level, inside functions and under
``TYPE_CHECKING``. Each module belongs to one layer (:func:`layer_of`); :data:`MAY_IMPORT` says
which other layers it may import (a layer may always import itself). A stage's ``offline``
subpackage is a layer of its own that only the top layer may import, so nothing on the live path
(stages' live modules, services, web) reaches training, evaluation or model installation.

Also checked: no import cycle between modules (strongly connected components of the import
graph; ``from pkg import mod`` is an edge to ``pkg.mod``, and a module's implicit import of its
parent package is not an edge), files of at most :data:`MAX_FILE_LINES` lines and functions of at
most :data:`MAX_FUNCTION_LINES` lines (``def`` line to last line, docstring included; Alembic
migrations aside), and that starting the server imports no offline module.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: the packages whose imports are walked
PACKAGES = ("agent_monitor", "asr", "emotion", "qa_rules", "web")
#: where file and function length are checked (packages plus the repository's own tools)
LENGTH_ROOTS = (*PACKAGES, "benchmarks", "scripts")
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60
#: generated code, exempt from the length limits
GENERATED = ("agent_monitor/storage/migrations/versions/",)

STAGES = ("asr", "emotion", "qa_rules")
CORE = (
    "model",
    "errors",
    "settings",
    "audio",
    "strict_json",
    "data_dir_lock",
    "lanes",
    "event_loops",
    "heap_trim",
    "files",
)
SERVICES = ("storage", "accounts", "pipeline", "ingest", "cluster")
TOP = ("compose", "cli", "evaluation", "workers", "allocator", "__main__")

#: layer -> the other layers it may import (ARCHITECTURE.md, "What each package may import")
MAY_IMPORT: dict[str, tuple[str, ...]] = {
    "core": (),
    "asr": ("core",),
    "emotion": ("core",),
    "qa_rules": ("core",),
    "asr.offline": ("core", "asr"),
    "emotion.offline": ("core", "emotion"),
    "qa_rules.offline": ("core", "qa_rules"),
    "storage": ("core",),
    "accounts": ("core", "storage"),
    "pipeline": ("core", "storage", "accounts"),
    "ingest": ("core", "storage", "accounts", "pipeline"),
    "cluster": ("core", "storage", "accounts", "pipeline"),
    "web": ("core", "storage", "accounts", "pipeline", "ingest", "cluster"),
    "top": ("*",),
}


def layer_of(module: str) -> str:
    """The layer of a project module (``"?"`` when the table does not place it)."""
    parts = module.split(".")
    if parts[0] in STAGES:
        return f"{parts[0]}.offline" if len(parts) > 1 and parts[1] == "offline" else parts[0]
    if parts[0] == "web":
        return "web"
    if parts[0] == "agent_monitor":
        if len(parts) == 1:
            return "core"  # the package itself: a docstring and __version__
        sub = parts[1]
        if sub in CORE:
            return "core"
        if sub in SERVICES:
            return sub
        if sub in TOP:
            return "top"
    return "?"


def may_import(importer: str, imported: str) -> bool:
    allowed = MAY_IMPORT.get(importer, ())
    return importer == imported or imported in allowed or "*" in allowed


# --- walking the code -----------------------------------------------------------------------------
def module_files() -> dict[str, Path]:
    """Every module of :data:`PACKAGES` by dotted name (a package by its ``__init__``)."""
    out: dict[str, Path] = {}
    for pkg in PACKAGES:
        for path in sorted((REPO / pkg).rglob("*.py")):
            rel = path.relative_to(REPO).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            out[".".join(parts)] = path
    return out


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """The project module ``name`` refers to (its longest existing prefix), if any."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        candidate = ".".join(parts[:n])
        if candidate in modules:
            return candidate
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """(imported project module, line) for every import statement anywhere in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _known(alias.name, modules)
                if target:
                    yield target, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, module, is_package)
            for alias in node.names:
                target = _known(f"{base}.{alias.name}", modules) or _known(base, modules)
                if target:
                    yield target, node.lineno


def import_graph() -> dict[str, dict[str, int]]:
    """module -> {imported module: first line importing it}."""
    modules = module_files()
    graph: dict[str, dict[str, int]] = {}
    for module, path in modules.items():
        edges: dict[str, int] = {}
        for target, line in imports_of(module, path, modules):
            if target != module:
                edges.setdefault(target, line)
        graph[module] = edges
    return graph


def strongly_connected(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The import cycles: components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, {})))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def _report(title: str, violations: list[str]) -> str:
    return f"{len(violations)} {title}:\n" + "\n".join(f"  - {v}" for v in violations)


# --- the rules ------------------------------------------------------------------------------------
def test_every_module_has_a_layer() -> None:
    unplaced = [m for m in module_files() if layer_of(m) == "?"]
    title = "modules the layer table does not place (add them to ARCHITECTURE.md)"
    assert not unplaced, _report(title, unplaced)


def test_imports_follow_the_layer_table() -> None:
    graph = import_graph()
    files = module_files()
    violations = []
    for module, edges in sorted(graph.items()):
        here = layer_of(module)
        for target, line in sorted(edges.items()):
            there = layer_of(target)
            if not may_import(here, there):
                where = f"{files[module].relative_to(REPO)}:{line}"
                violations.append(f"{where}: {module} ({here}) imports {target} ({there})")
    assert not violations, _report("imports against the layer table of ARCHITECTURE.md", violations)


def test_no_import_cycles() -> None:
    graph = import_graph()
    cycles = []
    for component in strongly_connected(graph):
        members = set(component)
        links = [f"{m} -> {t}" for m in component for t in sorted(graph[m]) if t in members]
        cycles.append(" | ".join(links))
    assert not cycles, _report("import cycles (each: the imports inside the cycle)", cycles)


def _length_checked_files() -> Iterator[Path]:
    for root in LENGTH_ROOTS:
        for path in sorted((REPO / root).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            if not rel.startswith(GENERATED):
                yield path


def test_files_are_short() -> None:
    long_files = []
    for path in _length_checked_files():
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_FILE_LINES:
            long_files.append(f"{path.relative_to(REPO)}: {n} lines")
    assert not long_files, _report(f"files over {MAX_FILE_LINES} lines", long_files)


def test_functions_are_short() -> None:
    long_functions = []
    for path in _length_checked_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long_functions.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name}: {n} lines")
    assert not long_functions, _report(f"functions over {MAX_FUNCTION_LINES} lines", long_functions)


# --- the walker itself ----------------------------------------------------------------------------
def test_walker_sees_every_kind_of_import(tmp_path: Path) -> None:
    source = textwrap.dedent(
        """
        from typing import TYPE_CHECKING
        import asr.vad
        from . import sibling
        if TYPE_CHECKING:
            from emotion.tracker import StressTracker
        def later():
            from qa_rules import engine
        """
    )
    path = tmp_path / "probe.py"
    path.write_text(source, encoding="utf-8")
    names = ("asr.vad", "emotion.tracker", "qa_rules.engine", "web.sibling", "web.probe")
    modules = {m: Path() for m in names}
    found = sorted(t for t, _ in imports_of("web.probe", path, modules))
    assert found == ["asr.vad", "emotion.tracker", "qa_rules.engine", "web.sibling"]


def test_cycle_finder_finds_cycles_and_only_cycles() -> None:
    graph = {"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1, "d": 1}, "d": {}, "e": {"d": 1}}
    assert strongly_connected(graph) == [["a", "b", "c"]]


def test_layer_table_places_the_packages() -> None:
    assert layer_of("asr.offline.model_store") == "asr.offline"
    assert layer_of("asr.model_path") == "asr"
    assert layer_of("agent_monitor.settings") == "core"
    assert layer_of("agent_monitor.cli.models_cmd") == "top"
    assert not may_import("pipeline", "qa_rules")
    assert not may_import("asr", "asr.offline")
    assert not may_import("emotion", "asr")
    assert may_import("asr.offline", "asr")


# --- the running server ---------------------------------------------------------------------------
SERVER_PROBE = """
import json, sys
from fastapi.testclient import TestClient
from agent_monitor.settings import Settings
from agent_monitor.compose import create_app

with TestClient(create_app(Settings())) as client:
    client.get("/")
print(json.dumps(sorted(sys.modules)))
"""


def test_starting_the_server_imports_no_offline_module(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "AGENT_MONITOR_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run(
        [sys.executable, "-c", SERVER_PROBE], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    started = {"asr.streaming", "qa_rules.engine", "web.app"}
    assert started <= set(loaded), "the server did not start its stages"
    offline = [m for m in loaded if m.split(".")[0] in STAGES and "offline" in m.split(".")]
    assert not offline, _report("offline modules imported by starting the server", offline)
