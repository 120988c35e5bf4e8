"""Find an installed speech model's directory: the one thing the live server needs of the model store.

:func:`resolve_model_path` checks that the directory holds a complete Vosk model (the layout of
:mod:`asr.model_layout`, plus the files the manifest requires) and otherwise says how to install
it. Installing, downloading and verifying models is offline tooling (:mod:`asr.offline.model_store`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from agent_monitor.errors import ModelError, ModelLayoutError, ModelNotInstalledError
from agent_monitor.settings import MODEL_MANIFEST, Settings
from asr.model_layout import check_layout
from asr.model_manifest import Manifest, load_manifest

#: directories of ``model_dir`` that are not speech models
RESERVED = frozenset({"downloads", "stress"})
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
_MAX_NAMED = 6


def check_name(name: str) -> None:
    if not _NAME_RE.match(name) or name in RESERVED:
        raise ModelError(
            f"invalid model name {name!r}: use letters, digits, '.', '_', '+', '-'"
            f" (not {', '.join(sorted(RESERVED))})"
        )


def not_installed_message(name: str, model_dir: Path, manifest: Manifest | None) -> str:
    spec = manifest.get(name) if manifest else None
    if spec is None:
        return (
            f"model {name!r} is not installed in {model_dir}; install it with"
            f" `agent-monitor models install ARCHIVE_OR_DIR --name {name}`"
            " (known models: `agent-monitor models list`)"
        )
    return (
        f"model {name} is not installed in {model_dir}; run `agent-monitor models fetch {name}`,"
        f" or without network download {spec.official.url} and run `agent-monitor models install FILE`"
    )


def resolve_model_path(settings: Settings, name: str | None = None) -> Path:
    """The directory of model ``name`` (default ``settings.asr.model``), checked for completeness.

    ``name`` may also be a path to a model directory (anything with a ``/`` or starting with
    ``.`` or ``~``). Raises :class:`ModelNotInstalledError` with install instructions, or
    :class:`ModelLayoutError` naming missing files.
    """
    name = name or settings.asr.model
    if "/" in name or os.sep in name or name.startswith((".", "~")):
        path = Path(name).expanduser()
        if not path.is_dir():
            raise ModelNotInstalledError(f"model directory {path} does not exist")
        spec = None
    else:
        check_name(name)
        path = settings.model_dir / name
        manifest = _try_default_manifest()
        spec = manifest.get(name) if manifest else None
        if not path.is_dir():
            raise ModelNotInstalledError(not_installed_message(name, settings.model_dir, manifest))
    problems = check_layout(path, spec.required if spec else ())
    if problems:
        raise ModelLayoutError(
            f"model {name} in {path} is incomplete: {join_problems(problems)}; reinstall it"
        )
    return path


def _try_default_manifest() -> Manifest | None:
    try:
        return load_manifest(MODEL_MANIFEST)
    except ModelError:
        return None  # the message then lacks the download URL; resolving still works


def join_problems(problems: list[str]) -> str:
    shown = "; ".join(problems[:_MAX_NAMED])
    more = len(problems) - _MAX_NAMED
    return shown + (f"; and {more} more" if more > 0 else "")
