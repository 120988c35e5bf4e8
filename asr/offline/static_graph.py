"""Build a lookahead model's static decoding graph once: ``agent-monitor models build-graph``.

The recipe (OpenFst 1.7.9, Debian ``libfst-tools`` + ``libfst22-plugins-base``), run in a temporary
directory next to the target and renamed into place when complete:

1. ``fstsymbols --save_osymbols=words.txt --clear_isymbols --clear_osymbols Gr.fst gr.fst``: the
   word list Vosk needs, and a G without symbol tables (1.7.9 cannot read back the ones it writes);
2. ``fstcompose --connect=false HCLr.fst gr.fst raw.fst`` (about 40-55 s CPU, 730 MB peak for the
   small English model);
3. ``fstrelabel --relabel_ipairs``: the disambiguation ids of ``graph/disambig_tid.int`` to 0
   (epsilon), as the on-the-fly composition does;
4. ``fstconvert --fst_type=const`` -> ``HCLG.fst`` (225 MB for the small English model).

``source.json`` records the sha256 of the two input files, so a reinstalled model's stale graph
is not used (:func:`asr.static_graph.find_static_graph`).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from agent_monitor.errors import GraphToolsMissingError, ModelError, ModelLayoutError
from asr.offline.atomic_swap import swap_into_place
from asr.static_graph import (
    HCLG,
    LOOKAHEAD_FILES,
    SOURCE,
    WORDS,
    find_static_graph,
    ships_static_graph,
    source_digests,
    static_graph_dir,
)

TOOLS = ("fstsymbols", "fstcompose", "fstrelabel", "fstconvert")
DEBIAN_PACKAGES = "libfst-tools libfst22-plugins-base"
#: where Debian's OpenFst 1.7.9 keeps its FST-type plugins: the model's ``HCLr.fst`` is an
#: ``olabel_lookahead`` FST and ``Gr.fst`` an ``ngram`` one, which the tools load from there (through
#: ``LD_LIBRARY_PATH``); ``const``, the output's type, is built in
PLUGIN_GLOB = "/usr/lib/*/fst/22"
#: the plugins the inputs need
PLUGINS = ("olabel_lookahead-fst.so", "ngram-fst.so")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildResult:
    #: the static graph's directory; ``None`` when the model ships its own ``graph/HCLG.fst``
    directory: Path | None
    #: False when an up-to-date graph was already there (or the model ships one)
    built: bool
    bytes: int = 0
    cpu_s: float = 0.0


def missing_tools(path: str | None = None, plugins: str = PLUGIN_GLOB) -> list[str]:
    """The OpenFst tools not found on ``path`` (default ``$PATH``) and the FST-type plugins not
    found in ``plugins`` (a glob of directories)."""
    missing = [tool for tool in TOOLS if shutil.which(tool, path=path) is None]
    found = {p.name for d in _plugin_dirs(plugins) for p in d.iterdir()}
    return missing + [plugin for plugin in PLUGINS if plugin not in found]


def _plugin_dirs(plugins: str = PLUGIN_GLOB) -> list[Path]:
    return sorted(p for p in Path("/").glob(plugins.lstrip("/")) if p.is_dir())


def build_static_graph(model_path: Path, *, force: bool = False) -> BuildResult:
    """Build ``<model>.hclg/`` next to the lookahead model at ``model_path`` (blocking, ~1 min)."""
    if ships_static_graph(model_path):
        return BuildResult(None, built=False)
    for name in (*LOOKAHEAD_FILES, "disambig_tid.int"):
        if not (model_path / "graph" / name).is_file():
            raise ModelLayoutError(f"{model_path}: graph/{name} missing; not a lookahead model")
    target = static_graph_dir(model_path)
    found, _ = find_static_graph(model_path)
    if found is not None and not force:
        return BuildResult(found, built=False, bytes=(found / HCLG).stat().st_size)
    missing = missing_tools()
    if missing:
        raise GraphToolsMissingError(
            f"the OpenFst tools or plugins {', '.join(missing)} are not installed; install the Debian"
            f" packages {DEBIAN_PACKAGES} (apt-get install {DEBIAN_PACKAGES}) and run this again"
        )
    cpu0 = _children_cpu()
    staged = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    staged.chmod(0o755)
    try:
        _compose(model_path, staged)
        source = {"model": str(model_path), "sha256": source_digests(model_path)}
        (staged / SOURCE).write_text(json.dumps(source, indent=2) + "\n", encoding="utf-8")
        swap_into_place(staged, target, target.parent / f".{target.name}.old-{os.getpid()}")
    finally:
        shutil.rmtree(staged, ignore_errors=True)  # the old graph after a swap, or a failed build
        shutil.rmtree(target.parent / f".{target.name}.old-{os.getpid()}", ignore_errors=True)
    return BuildResult(target, built=True, bytes=(target / HCLG).stat().st_size, cpu_s=_children_cpu() - cpu0)


def _compose(model_path: Path, out: Path) -> None:
    graph = model_path / "graph"
    relabel = out / "relabel.txt"
    ids = (graph / "disambig_tid.int").read_text(encoding="utf-8").split()
    relabel.write_text("".join(f"{i} 0\n" for i in ids), encoding="utf-8")
    gr = (str(graph / "Gr.fst"), str(out / "gr.fst"))
    steps = [
        ["fstsymbols", f"--save_osymbols={out / WORDS}", "--clear_isymbols", "--clear_osymbols", *gr],
        ["fstcompose", "--connect=false", str(graph / "HCLr.fst"), str(out / "gr.fst"), str(out / "raw.fst")],
        ["fstrelabel", f"--relabel_ipairs={relabel}", str(out / "raw.fst"), str(out / "rel.fst")],
        ["fstconvert", "--fst_type=const", str(out / "rel.fst"), str(out / HCLG)],
    ]
    for step in steps:
        _run(step)
        consumed = {"fstcompose": "gr.fst", "fstrelabel": "raw.fst", "fstconvert": "rel.fst"}.get(step[0])
        if consumed:
            (out / consumed).unlink()
    relabel.unlink()


def _run(command: list[str]) -> None:
    env = dict(os.environ)
    dirs = [str(d) for d in _plugin_dirs()]
    env["LD_LIBRARY_PATH"] = os.pathsep.join([*dirs, *filter(None, [env.get("LD_LIBRARY_PATH")])])
    log.info("static graph: %s", " ".join(command))
    started = time.monotonic()
    proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise ModelError(f"{command[0]} failed (exit {proc.returncode}): {' / '.join(detail)}")
    log.info("static graph: %s done in %.1f s", command[0], time.monotonic() - started)


def _children_cpu() -> float:
    times = os.times()
    return times.children_user + times.children_system
