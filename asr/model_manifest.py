"""The manifest of known Vosk models (``models/manifest.toml``), read into frozen dataclasses.

Each model has one or more *sources* (the official zip first, then mirrors such as the Maven
Central AAR). A source pins the archive's ``size`` and ``sha256`` only where they were measured
or published; absent values are ``None`` and are never invented. Independently of the archive,
``files`` pins the sha256 of the model's own files (relative to the model root), so content
installed from any source can be checked against the same list.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent_monitor.errors import ModelError

_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class ArchiveSource:
    """One downloadable archive holding the model."""

    url: str
    #: "zip" (official, one top directory), "aar" (Android archive, model under ``model_path``), "tar.gz"
    kind: str
    #: where the model root lies inside the archive ("" = detect: the single top directory)
    model_path: str = ""
    size: int | None = None
    sha256: str | None = None
    #: where ``sha256``/``size`` come from (measured here, published by ..., ...)
    provenance: str = ""
    #: a Maven coordinate for mirrors fetched with ``mvn dependency:get``
    maven: str = ""


@dataclass(frozen=True)
class FileDigest:
    """A file's sha256 and size; ``size`` is ``None`` only in a manifest pin published without it."""

    size: int | None
    sha256: str


@dataclass(frozen=True)
class ModelSpec:
    """A known model: what it is, where to get it and what its files must hash to."""

    name: str
    lang: str
    description: str
    sources: tuple[ArchiveSource, ...]
    #: files that must exist (relative to the model root), beyond the generic Vosk layout rules
    required: tuple[str, ...] = ()
    #: pinned per-file digests of the model content (relative path -> digest); may be empty
    files: dict[str, FileDigest] = field(default_factory=dict)
    files_provenance: str = ""

    @property
    def official(self) -> ArchiveSource:
        return self.sources[0]


@dataclass(frozen=True)
class Manifest:
    path: Path
    models: dict[str, ModelSpec]

    def get(self, name: str) -> ModelSpec | None:
        return self.models.get(name)

    def match_files(self, digests: dict[str, FileDigest]) -> ModelSpec | None:
        """The known model whose pinned files all appear in ``digests`` with equal sha256."""
        for spec in self.models.values():
            if spec.files and all(
                rel in digests and digests[rel].sha256 == d.sha256 for rel, d in spec.files.items()
            ):
                return spec
        return None


def load_manifest(path: Path) -> Manifest:
    """Read and check a manifest file; every problem is one :class:`ModelError` line."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ModelError(f"{path}: cannot read model manifest: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ModelError(f"{path}: model manifest is not valid TOML: {exc}") from exc
    models_raw = data.get("models")
    if not isinstance(models_raw, dict):
        raise ModelError(f"{path}: model manifest has no [models.NAME] tables")
    models: dict[str, ModelSpec] = {}
    for name, raw in models_raw.items():
        where = f"{path}: models.{name}"
        if not isinstance(raw, dict):
            raise ModelError(f"{where}: must be a table")
        models[name] = _parse_model(name, raw, where)
    return Manifest(path=path, models=models)


def _parse_model(name: str, raw: dict[str, Any], where: str) -> ModelSpec:
    sources_raw = raw.get("sources")
    if not isinstance(sources_raw, list) or not sources_raw:
        raise ModelError(f"{where}: needs at least one [[models.{name}.sources]] entry")
    sources = tuple(_parse_source(s, f"{where}.sources[{i}]") for i, s in enumerate(sources_raw))
    files_raw = raw.get("files", {})
    if not isinstance(files_raw, dict):
        raise ModelError(f"{where}.files: must be a table of path = {{ size, sha256 }}")
    files: dict[str, FileDigest] = {}
    for rel, d in files_raw.items():
        if not isinstance(d, dict):
            raise ModelError(f"{where}.files.{rel}: must be {{ size = N, sha256 = HEX }}")
        size = d.get("size")
        files[rel] = FileDigest(
            size=None if size is None else _int(size, f"{where}.files.{rel}.size"),
            sha256=_sha(d.get("sha256"), f"{where}.files.{rel}.sha256"),
        )
    required = raw.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise ModelError(f"{where}.required: must be a list of relative paths")
    return ModelSpec(
        name=name,
        lang=_str(raw.get("lang"), f"{where}.lang"),
        description=_str(raw.get("description"), f"{where}.description"),
        sources=sources,
        required=tuple(required),
        files=files,
        files_provenance=str(raw.get("files_provenance", "")),
    )


def _parse_source(raw: object, where: str) -> ArchiveSource:
    if not isinstance(raw, dict):
        raise ModelError(f"{where}: must be a table")
    kind = _str(raw.get("kind"), f"{where}.kind")
    if kind not in ("zip", "aar", "tar.gz"):
        raise ModelError(f"{where}.kind: must be zip, aar or tar.gz, not {kind!r}")
    size = raw.get("size")
    sha = raw.get("sha256")
    return ArchiveSource(
        url=_str(raw.get("url"), f"{where}.url"),
        kind=kind,
        model_path=str(raw.get("model_path", "")).strip("/"),
        size=None if size is None else _int(size, f"{where}.size"),
        sha256=None if sha is None else _sha(sha, f"{where}.sha256"),
        provenance=str(raw.get("provenance", "")),
        maven=str(raw.get("maven", "")),
    )


def _str(v: object, where: str) -> str:
    if not isinstance(v, str) or not v:
        raise ModelError(f"{where}: must be a non-empty string")
    return v


def _int(v: object, where: str) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise ModelError(f"{where}: must be a byte count (integer >= 0)")
    return v


def _sha(v: object, where: str) -> str:
    if not isinstance(v, str) or len(v) != 64 or not set(v) <= _HEX:
        raise ModelError(f"{where}: must be 64 lower-case hex digits")
    return v
