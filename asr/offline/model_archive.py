"""Unpacking a Vosk model from an official zip, a Maven AAR, a tar(.gz) or a directory.

The model root inside the source is found from the paths themselves: it is the folder that holds
``am/``, ``conf/``, ``graph/`` or ``ivector/`` (the official zip's single top directory, the AAR's
``assets/<name>/``, or the source itself). Files are copied while their sha256 is computed, so a
damaged archive (CRC error, truncated data) is detected during extraction and named. Unsafe
members (absolute paths, ``..``, links, devices) are refused.
"""

from __future__ import annotations

import hashlib
import shutil
import stat
import tarfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from agent_monitor.errors import ModelLayoutError
from asr.model_manifest import FileDigest

#: sub-directories that mark a Vosk model root
MARKERS = frozenset({"am", "conf", "graph", "ivector"})
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ExtractedModel:
    """A model copied out of its source into a directory."""

    #: kind of source: "zip", "aar", "tar", "directory"
    kind: str
    #: the model root inside the source ("" = the top level)
    root: str
    #: per-file digests relative to the model root
    files: dict[str, FileDigest]

    @property
    def root_name(self) -> str:
        return PurePosixPath(self.root).name


def source_kind(source: Path) -> str:
    """``zip``, ``aar``, ``tar`` or ``directory``; raises for anything else, naming the problem."""
    if source.is_dir():
        return "directory"
    if not source.exists():
        raise ModelLayoutError(f"{source}: no such file or directory")
    if not source.is_file():
        raise ModelLayoutError(f"{source}: not a regular file or directory")
    try:
        with source.open("rb") as f:
            head = f.read(512)
    except OSError as exc:
        raise ModelLayoutError(f"{source}: cannot read: {exc.strerror or exc}") from exc
    if not head:
        raise ModelLayoutError(f"{source}: empty file (0 bytes), not a model archive")
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "aar" if source.suffix.lower() == ".aar" else "zip"
    if head[:2] == b"\x1f\x8b" or head[:3] == b"BZh" or head[:6] == b"\xfd7zXZ\x00":
        return "tar"
    if head[257:262] == b"ustar":
        return "tar"
    raise ModelLayoutError(
        f"{source}: not a model archive (expected a .zip, .aar, .tar.gz or a model directory)"
    )


def extract_model(source: Path, dest: Path, model_path: str = "") -> ExtractedModel:
    """Copy the model in ``source`` into the new directory ``dest`` (which must not exist).

    ``model_path`` forces the model root inside the source (e.g. ``assets/model-en-us``).
    On error ``dest`` may hold partial content; the caller owns and removes it.
    """
    kind = source_kind(source)
    if kind == "directory":
        return _from_directory(source, dest, model_path)
    if kind in ("zip", "aar"):
        return _from_zip(source, dest, kind, model_path)
    return _from_tar(source, dest, model_path)


def find_root(files: Iterable[str], source: Path, forced: str = "") -> str:
    """The single model root among the file paths ``files``."""
    names = list(files)
    if forced:
        if not any(n.startswith(forced + "/") for n in names):
            raise ModelLayoutError(f"{source}: no model under {forced}/ (the archive holds no model files)")
        return forced
    roots: Counter[str] = Counter()
    for name in names:
        parts = name.split("/")
        for i, part in enumerate(parts[:-1]):
            if part in MARKERS:
                roots["/".join(parts[:i])] += 1
                break
    if not roots:
        raise ModelLayoutError(
            f"{source}: no Vosk model inside (no am/, conf/, graph/ or ivector/ folder with files)"
        )
    if len(roots) > 1:
        listed = ", ".join(f"{r or '.'}/" for r in sorted(roots))
        raise ModelLayoutError(f"{source}: holds several models ({listed}); install one of them")
    return next(iter(roots))


def _relative(name: str, root: str) -> str | None:
    """``name`` relative to ``root``, or None when outside it."""
    if not root:
        return name
    prefix = root + "/"
    return name[len(prefix) :] if name.startswith(prefix) else None


def _safe_name(raw: str, source: Path) -> str:
    name = raw.replace("\\", "/")
    p = PurePosixPath(name)
    if p.is_absolute() or ".." in p.parts or (p.parts and ":" in p.parts[0]):
        raise ModelLayoutError(f"{source}: unsafe path in archive: {raw!r}")
    return "/".join(part for part in p.parts if part not in ("", "."))


def _copy(src: IO[bytes], target: Path) -> FileDigest:
    target.parent.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256()
    size = 0
    with target.open("wb") as out:
        while chunk := src.read(_CHUNK):
            h.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return FileDigest(size=size, sha256=h.hexdigest())


def _from_zip(source: Path, dest: Path, kind: str, model_path: str) -> ExtractedModel:
    try:
        zf = zipfile.ZipFile(source)
    except zipfile.BadZipFile as exc:
        raise ModelLayoutError(
            f"{source}: truncated or damaged zip archive ({exc}); download it again"
        ) from exc
    except OSError as exc:
        raise ModelLayoutError(f"{source}: cannot read: {exc.strerror or exc}") from exc
    with zf:
        members: dict[str, zipfile.ZipInfo] = {}
        for info in zf.infolist():
            if info.is_dir():
                continue
            mode = info.external_attr >> 16
            name = _safe_name(info.filename, source)
            if stat.S_IFMT(mode) not in (0, stat.S_IFREG):  # unix type bits: only plain files
                raise ModelLayoutError(f"{source}: {name} is a link or special file; refusing it")
            members[name] = info
        root = find_root(members, source, model_path)
        dest.mkdir(parents=False)
        files: dict[str, FileDigest] = {}
        for name, info in members.items():
            rel = _relative(name, root)
            if rel is None:
                continue
            try:
                with zf.open(info) as src:
                    files[rel] = _copy(src, dest / rel)
            except zipfile.BadZipFile as exc:
                raise ModelLayoutError(
                    f"{source}: {name} is corrupt in the archive ({exc}); download it again"
                ) from exc
            except (EOFError, zlib.error) as exc:
                raise ModelLayoutError(
                    f"{source}: {name} is truncated or corrupt in the archive ({exc}); download it again"
                ) from exc
            except NotImplementedError as exc:
                raise ModelLayoutError(f"{source}: {name}: unsupported compression ({exc})") from exc
    return ExtractedModel(kind=kind, root=root, files=dict(sorted(files.items())))


def _from_tar(source: Path, dest: Path, model_path: str) -> ExtractedModel:
    """Extract every regular file into a staging folder beside ``dest``, then keep the model root."""
    staging = dest.with_name(dest.name + ".unpack")
    staging.mkdir()
    digests: dict[str, FileDigest] = {}
    current = ""
    try:
        with tarfile.open(source, mode="r:*") as tf:
            for member in tf:
                current = member.name
                if member.isdir():
                    continue
                name = _safe_name(member.name, source)
                if not member.isfile():
                    raise ModelLayoutError(f"{source}: {name} is a link or special file; refusing it")
                src = tf.extractfile(member)
                if src is None:  # pragma: no cover - isfile() members always have data
                    raise ModelLayoutError(f"{source}: cannot read {name}")
                with src:
                    digests[name] = _copy(src, staging / name)
                if digests[name].size != member.size:
                    raise ModelLayoutError(f"{source}: {name} is truncated in the archive")
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        if isinstance(exc, OSError) and not _is_archive_damage(exc):
            raise ModelLayoutError(f"{source}: cannot unpack: {exc.strerror or exc}") from exc
        at = f" at {current}" if current else ""
        raise ModelLayoutError(
            f"{source}: truncated or damaged tar archive{at} ({exc}); download it again"
        ) from exc
    root = find_root(digests, source, model_path)
    if root:
        (staging / root).rename(dest)
        shutil.rmtree(staging)  # what lay outside the model root (e.g. a README beside it)
    else:
        staging.rename(dest)
    files = {rel: d for name, d in digests.items() if (rel := _relative(name, root)) is not None}
    return ExtractedModel(kind="tar", root=root, files=dict(sorted(files.items())))


def _is_archive_damage(exc: OSError) -> bool:
    # gzip.BadGzipFile and lzma/bz2 data errors are OSError subclasses without an errno
    return exc.errno is None


def _from_directory(source: Path, dest: Path, model_path: str) -> ExtractedModel:
    names: list[str] = []
    for p in sorted(source.rglob("*")):
        if p.is_file():
            names.append(p.relative_to(source).as_posix())
        elif not p.is_dir():
            raise ModelLayoutError(f"{p}: not a regular file (broken link or special file)")
    root = find_root(names, source, model_path)
    dest.mkdir(parents=False)
    files: dict[str, FileDigest] = {}
    for name in names:
        rel = _relative(name, root)
        if rel is None:
            continue
        try:
            with (source / name).open("rb") as src:
                files[rel] = _copy(src, dest / rel)
        except OSError as exc:
            raise ModelLayoutError(f"{source / name}: cannot read: {exc.strerror or exc}") from exc
    return ExtractedModel(kind="directory", root=root, files=dict(sorted(files.items())))
