"""The speech model store: installed models under ``settings.model_dir``, one directory each.

* :meth:`ModelStore.install` unpacks an official zip, a Maven AAR, a tar(.gz) or a directory into a
  temporary folder *inside* the model directory, checks the Vosk layout and (for known models) the
  pinned per-file sha256 list of ``models/manifest.toml``, writes an install record
  (:data:`RECORD_NAME`) and only then moves the model into place, so no half model is ever
  visible; a reinstall swaps the old directory out in one step (:mod:`asr.offline.atomic_swap`).
* :meth:`ModelStore.verify` recomputes every file's sha256 and compares with the install record
  and the manifest, naming missing, truncated or changed files.
* :func:`asr.model_path.resolve_model_path` (live, not here) is what the recognizer calls to find
  its model.

Downloads live in :mod:`asr.offline.model_fetch`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent_monitor.errors import ModelLayoutError, ModelNotInstalledError
from agent_monitor.settings import MODEL_MANIFEST, Settings
from asr.model_layout import check_layout
from asr.model_manifest import FileDigest, Manifest, ModelSpec, load_manifest
from asr.model_path import RESERVED, check_name, join_problems, not_installed_message
from asr.offline.atomic_swap import swap_into_place
from asr.offline.file_digests import digest_tree, sha256_file
from asr.offline.model_archive import extract_model, source_kind

#: the install record written into every installed model directory
RECORD_NAME = ".agent-monitor-model.json"
RECORD_FORMAT = 1
_TMP_PREFIX = ".install-"


@dataclass(frozen=True)
class InstallRecord:
    name: str
    source: str
    source_kind: str
    #: where the model root lay inside the source ("" = top level)
    source_root: str
    archive_sha256: str | None
    archive_size: int | None
    #: download URL or Maven coordinate, when known
    origin: str | None
    installed_at: str
    #: whether the files matched the manifest's pinned per-file sha256 list
    manifest_checked: bool
    files: dict[str, FileDigest]

    def to_json(self) -> str:
        data: dict[str, Any] = {"format": RECORD_FORMAT, **self.__dict__}
        data["files"] = {k: {"size": v.size, "sha256": v.sha256} for k, v in self.files.items()}
        return json.dumps(data, indent=1, ensure_ascii=False) + "\n"

    @classmethod
    def read(cls, path: Path) -> InstallRecord:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            files = {
                k: FileDigest(size=int(v["size"]), sha256=str(v["sha256"])) for k, v in data["files"].items()
            }
            return cls(
                name=str(data["name"]),
                source=str(data["source"]),
                source_kind=str(data["source_kind"]),
                source_root=str(data.get("source_root", "")),
                archive_sha256=data.get("archive_sha256"),
                archive_size=data.get("archive_size"),
                origin=data.get("origin"),
                installed_at=str(data["installed_at"]),
                manifest_checked=bool(data.get("manifest_checked", False)),
                files=files,
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ModelLayoutError(f"{path}: install record is unreadable or damaged ({exc})") from exc


@dataclass(frozen=True)
class ModelEntry:
    """One row of :meth:`ModelStore.list`: a known and/or installed model."""

    name: str
    spec: ModelSpec | None
    path: Path | None
    record: InstallRecord | None
    #: layout problems of an installed model (empty when complete or not installed)
    problems: tuple[str, ...] = ()

    @property
    def installed(self) -> bool:
        return self.path is not None


@dataclass(frozen=True)
class VerifyResult:
    name: str
    path: Path
    files_checked: int
    bytes_checked: int
    #: what the files were compared with
    against: str


class ModelStore:
    """Installed models in ``model_dir`` plus the known models of a manifest."""

    def __init__(self, model_dir: Path, manifest: Manifest | None = None) -> None:
        self.model_dir = model_dir
        self._manifest = manifest

    @classmethod
    def from_settings(cls, settings: Settings, manifest: Manifest | None = None) -> ModelStore:
        return cls(settings.model_dir, manifest)

    @property
    def manifest(self) -> Manifest:
        if self._manifest is None:
            self._manifest = load_manifest(MODEL_MANIFEST)
        return self._manifest

    # --- listing ------------------------------------------------------------------------------
    def installed_names(self) -> list[str]:
        if not self.model_dir.is_dir():
            return []
        names = []
        for p in sorted(self.model_dir.iterdir()):
            if p.name.startswith(".") or p.name in RESERVED or not p.is_dir():
                continue
            if (p / RECORD_NAME).is_file() or (p / "am").is_dir() or (p / "conf").is_dir():
                names.append(p.name)
        return names

    def list(self) -> list[ModelEntry]:
        installed = self.installed_names()
        names = list(self.manifest.models) + [n for n in installed if n not in self.manifest.models]
        entries = []
        for name in names:
            path = self.model_dir / name if name in installed else None
            record = None
            problems: tuple[str, ...] = ()
            if path is not None:
                spec = self.manifest.get(name)
                found = check_layout(path, spec.required if spec else ())
                if (path / RECORD_NAME).is_file():
                    try:
                        record = InstallRecord.read(path / RECORD_NAME)
                    except ModelLayoutError as exc:
                        found.append(str(exc))
                problems = tuple(found)
            entries.append(ModelEntry(name, self.manifest.get(name), path, record, problems))
        return entries

    # --- install ------------------------------------------------------------------------------
    def install(
        self,
        source: Path,
        name: str | None = None,
        *,
        origin: str | None = None,
        model_path: str = "",
        archive_sha256: str | None = None,
    ) -> InstallRecord:
        """Install the model in ``source`` (archive or directory) atomically; returns its record.

        ``name`` defaults to the known model whose pinned files match, else the model's folder
        name in the source. ``archive_sha256`` may be passed when the caller already hashed it.
        """
        source = source.expanduser()
        kind = source_kind(source)
        if name is not None:
            check_name(name)
        self.model_dir.mkdir(parents=True, exist_ok=True)
        self._remove_stale_temps()
        tmp = Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{os.getpid()}-", dir=self.model_dir))
        try:
            record = self._install_in(tmp, source, kind, name, origin, model_path, archive_sha256)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)  # the original error is what matters here
            raise
        shutil.rmtree(tmp)
        return record

    def _install_in(
        self,
        tmp: Path,
        source: Path,
        kind: str,
        name: str | None,
        origin: str | None,
        model_path: str,
        archive_sha256: str | None,
    ) -> InstallRecord:
        archive_size = None
        if kind != "directory":
            archive_size = source.stat().st_size
            if archive_sha256 is None:
                archive_sha256 = sha256_file(source)
        staged = tmp / "model"
        extracted = extract_model(source, staged, model_path)
        if RECORD_NAME in extracted.files:  # from an installed model: its record is not a model file
            (staged / RECORD_NAME).unlink()
            extracted.files.pop(RECORD_NAME)
        spec = self.manifest.get(name) if name else None
        if name is None:
            spec = self.manifest.match_files(extracted.files) or self.manifest.get(extracted.root_name)
            name = spec.name if spec else (extracted.root_name or _stem(source))
            check_name(name)
        problems = check_layout(staged, spec.required if spec else ())
        if problems:
            raise ModelLayoutError(f"{source}: incomplete model: {join_problems(problems)}")
        manifest_checked = False
        if spec is not None and spec.files:
            diffs = compare_files(spec.files, extracted.files)
            if diffs:
                raise ModelLayoutError(
                    f"{source}: not the model {name} of the manifest: {join_problems(diffs)}"
                    f" (pass another --name to install it under a different name)"
                )
            manifest_checked = True
        record = InstallRecord(
            name=name,
            source=str(source.resolve()),
            source_kind=extracted.kind,
            source_root=extracted.root,
            archive_sha256=archive_sha256,
            archive_size=archive_size,
            origin=origin,
            installed_at=datetime.now(UTC).isoformat(timespec="seconds"),
            manifest_checked=manifest_checked,
            files=extracted.files,
        )
        (staged / RECORD_NAME).write_text(record.to_json(), encoding="utf-8")
        swap_into_place(staged, self.model_dir / name, tmp / "previous")
        return record

    def _remove_stale_temps(self) -> None:
        """Delete temp folders left by installs whose process died (e.g. killed mid-way)."""
        for p in self.model_dir.glob(f"{_TMP_PREFIX}*"):
            try:
                pid = int(p.name[len(_TMP_PREFIX) :].split("-", 1)[0])
            except ValueError:
                continue
            if not _alive(pid):
                shutil.rmtree(p)

    # --- verify -------------------------------------------------------------------------------
    def path_of(self, name: str) -> Path:
        path = self.model_dir / name
        if not path.is_dir():
            raise ModelNotInstalledError(not_installed_message(name, self.model_dir, self.manifest))
        return path

    def verify(self, name: str) -> VerifyResult:
        """Recompute all files' sha256; raise :class:`ModelLayoutError` naming what is wrong."""
        check_name(name)
        path = self.path_of(name)
        spec = self.manifest.get(name)
        record = InstallRecord.read(path / RECORD_NAME) if (path / RECORD_NAME).is_file() else None
        reference: dict[str, FileDigest] = {}
        against = []
        if record is not None:
            reference.update(record.files)
            against.append(f"install record ({RECORD_NAME})")
        if spec is not None and spec.files:
            against.append("manifest per-file sha256")
        problems = list(check_layout(path, spec.required if spec else ()))
        current = digest_tree(path, skip=frozenset({RECORD_NAME}))
        problems += compare_files(reference, current)
        if spec is not None and spec.files:
            problems += compare_files(spec.files, current)
        problems = list(dict.fromkeys(problems))
        if problems:
            raise ModelLayoutError(
                f"model {name} in {path} is damaged: {join_problems(problems)}; reinstall it"
                f" (agent-monitor models install FILE --name {name})"
            )
        return VerifyResult(
            name=name,
            path=path,
            files_checked=len(current),
            bytes_checked=sum(d.size or 0 for d in current.values()),
            against=" and ".join(against) or "layout only (no install record, no pinned checksums)",
        )


def compare_files(expected: dict[str, FileDigest], actual: dict[str, FileDigest]) -> list[str]:
    """Phrases naming each expected file that is missing, of another size or of another sha256."""
    out = []
    for rel, want in sorted(expected.items()):
        got = actual.get(rel)
        if got is None:
            out.append(f"{rel} missing")
        elif want.size is not None and got.size != want.size:
            out.append(f"{rel} has {got.size} bytes, expected {want.size} (truncated or changed)")
        elif got.sha256 != want.sha256:
            out.append(f"{rel} is corrupt (sha256 {got.sha256[:12]}…, expected {want.sha256[:12]}…)")
    return out


def _stem(source: Path) -> str:
    n = source.name
    for suffix in (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar", ".zip", ".aar"):
        if n.lower().endswith(suffix):
            return n[: -len(suffix)]
    return n


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
