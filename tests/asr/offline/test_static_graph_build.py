"""``models build-graph``: what it refuses and when it has nothing to do (the real model; the graph
itself is built once by ``scripts/setup.sh``, never here: a minute of CPU and 225 MB)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent_monitor.errors import GraphToolsMissingError, ModelLayoutError
from agent_monitor.settings import Settings
from asr.model_path import resolve_model_path
from asr.offline.static_graph import DEBIAN_PACKAGES, PLUGINS, TOOLS, build_static_graph, missing_tools
from asr.static_graph import HCLG, SOURCE, WORDS, find_static_graph, static_graph_dir

REPO_ROOT = Path(__file__).resolve().parents[3]


def linked_model(real: Path, into: Path) -> Path:
    """A model directory of links to the real model's entries, without a static graph next to it."""
    model = into / "model"
    model.mkdir()
    for entry in real.resolve().iterdir():
        (model / entry.name).symlink_to(entry)
    return model


def test_without_the_openfst_tools_the_build_names_the_debian_packages(
    base_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = linked_model(resolve_model_path(base_settings), tmp_path)
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert missing_tools() == list(TOOLS)
    with pytest.raises(GraphToolsMissingError) as err:
        build_static_graph(model)
    assert DEBIAN_PACKAGES in str(err.value) and "fstcompose" in str(err.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin", "model"]  # no half-built graph left


def test_the_plugins_for_the_lookahead_and_ngram_inputs_are_required(tmp_path: Path) -> None:
    assert missing_tools() == []  # this machine has both packages
    assert missing_tools(plugins=str(tmp_path / "*")) == list(PLUGINS)  # a glob matching no plugin dir


def test_a_model_without_the_lookahead_pair_is_refused(tmp_path: Path) -> None:
    (tmp_path / "m" / "graph").mkdir(parents=True)
    with pytest.raises(ModelLayoutError, match=r"HCLr\.fst missing"):
        build_static_graph(tmp_path / "m")


def test_a_model_that_ships_hclg_needs_nothing(tmp_path: Path) -> None:
    (tmp_path / "m" / "graph").mkdir(parents=True)
    (tmp_path / "m" / "graph" / HCLG).write_bytes(b"x")
    result = build_static_graph(tmp_path / "m")
    assert result.directory is None and not result.built


def test_the_built_graph_is_up_to_date_and_a_stale_one_is_not_used(
    base_settings: Settings, tmp_path: Path
) -> None:
    real = resolve_model_path(base_settings)
    built, why = find_static_graph(real)
    assert built is not None, f"{why}: run `agent-monitor models build-graph` (scripts/setup.sh does)"
    again = build_static_graph(real)
    assert not again.built and again.directory == built  # nothing rebuilt
    ignored = subprocess.run(["git", "check-ignore", "-q", f"models/{built.name}/{HCLG}"], cwd=REPO_ROOT)
    assert ignored.returncode == 0  # the built graph is never committed

    model = linked_model(real, tmp_path)
    stale = static_graph_dir(model)
    stale.mkdir()
    for name in (HCLG, WORDS):
        (stale / name).symlink_to(built / name)
    (stale / SOURCE).write_text(json.dumps({"sha256": {"HCLr.fst": "0" * 64, "Gr.fst": "0" * 64}}))
    found, why = find_static_graph(model)
    assert found is None and "stale" in why


def test_the_cli_says_up_to_date_or_names_the_missing_packages(
    base_settings: Settings, tmp_path: Path
) -> None:
    cli = [sys.executable, "-m", "agent_monitor", "models", "build-graph"]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(cli, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "up to date" in done.stdout, done.stderr
    model = linked_model(resolve_model_path(base_settings), tmp_path)
    no_tools = {**env, "PATH": str(tmp_path)}
    refused = subprocess.run([*cli, str(model)], env=no_tools, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and DEBIAN_PACKAGES in refused.stderr
    assert not static_graph_dir(model).exists()
