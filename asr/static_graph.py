"""Where a model's static decoding graph lives, and whether it is usable.

Vosk's small models ship a *lookahead* graph pair (``graph/HCLr.fst`` + ``graph/Gr.fst``) that
every ``KaldiRecognizer`` composes on the fly: over half of its CPU (README, "Inside Vosk").
``agent-monitor models build-graph`` (:mod:`asr.offline.static_graph`) composes them once into a
static ``HCLG.fst`` (with the ``words.txt`` it needs) in a directory *next to* the installed model,
``<model>.hclg/``, so the installed files (whose digests ``models verify`` checks) stay untouched.
:func:`find_static_graph` says whether that graph is there and was built from this model's files
(``source.json`` records the sha256 of the two files it was composed from).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

GRAPH_SUFFIX = ".hclg"
HCLG = "HCLG.fst"
WORDS = "words.txt"
SOURCE = "source.json"
#: the lookahead pair a static graph is composed from (inside the model's ``graph/``)
LOOKAHEAD_FILES = ("HCLr.fst", "Gr.fst")


def static_graph_dir(model_path: Path) -> Path:
    """Where ``build-graph`` puts the static graph of the model at ``model_path``."""
    return model_path.parent / f"{model_path.name}{GRAPH_SUFFIX}"


def ships_static_graph(model_path: Path) -> bool:
    return (model_path / "graph" / HCLG).is_file()


def source_digests(model_path: Path) -> dict[str, str]:
    """sha256 of the lookahead files a static graph of this model is built from."""
    digests = {}
    for name in LOOKAHEAD_FILES:
        h = hashlib.sha256()
        with (model_path / "graph" / name).open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        digests[name] = h.hexdigest()
    return digests


def find_static_graph(model_path: Path) -> tuple[Path | None, str]:
    """The directory of the model's usable built static graph, or ``None`` and why not (one
    phrase). A model that ships ``graph/HCLG.fst`` needs none (see :func:`ships_static_graph`)."""
    where = static_graph_dir(model_path)
    if not all((where / name).is_file() for name in (HCLG, WORDS, SOURCE)):
        return None, f"no static graph built in {where}"
    try:
        recorded = json.loads((where / SOURCE).read_text(encoding="utf-8")).get("sha256", {})
        current = source_digests(model_path)
    except (OSError, ValueError, AttributeError) as exc:
        return None, f"{where}: cannot check what it was built from ({exc})"
    if recorded != current:
        return None, f"{where} was built from other graph files than {model_path}'s (stale)"
    return where, f"static graph {where}"
