"""The stage boundaries, read from the source (ast, every import: module level, inside functions
and under ``TYPE_CHECKING`` alike): only the composition root and the top-level tools import a
stage; no stage imports another stage or a service; the rule engine and its streaming checker
are not a circle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("asr", "qa_rules", "emotion")
#: the packages above the stages: they may import them (agent_monitor.compose is the one that builds)
TOP = ("agent_monitor/compose.py", "agent_monitor/cli", "agent_monitor/evaluation", "agent_monitor/workers")


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, anywhere in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def sources(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def top_package(module: str) -> str:
    return module.split(".")[0]


def offenders(paths: list[Path], forbidden: tuple[str, ...], root: Path = ROOT) -> list[str]:
    return [
        f"{p.relative_to(root)} imports {m}"
        for p in paths
        for m in sorted(imports(p))
        if top_package(m) in forbidden or any(m == f or m.startswith(f + ".") for f in forbidden)
    ]


def test_services_core_and_web_import_no_stage() -> None:
    below_top = [
        p
        for p in sources("agent_monitor", "web")
        if not any(str(p.relative_to(ROOT)).startswith(t) for t in TOP)
    ]
    assert len(below_top) > 50  # the walk did find the code
    assert offenders(below_top, STAGES) == []


@pytest.mark.parametrize("stage", STAGES)
def test_a_stage_imports_no_other_stage_and_no_service(stage: str) -> None:
    others = (*(s for s in STAGES if s != stage), "web")
    services = tuple(
        f"agent_monitor.{s}" for s in ("pipeline", "ingest", "storage", "cli", "compose", "evaluation")
    )
    assert offenders(sources(stage), others + services) == []


def test_the_rule_engine_does_not_import_its_streaming_checker() -> None:
    assert "qa_rules.streaming" in imports(ROOT / "qa_rules" / "live.py")
    assert not any(m.startswith("qa_rules.streaming") for m in imports(ROOT / "qa_rules" / "engine.py"))


def test_the_walk_sees_imports_inside_functions(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from asr.streaming import RecognizerPool\n", encoding="utf-8")
    assert offenders([probe], STAGES, tmp_path) == [
        "probe.py imports asr.streaming",
        "probe.py imports asr.streaming.RecognizerPool",
    ]
