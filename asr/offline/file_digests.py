"""Per-file sizes and sha256 digests of a model directory (install records, verify, manifests)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from asr.model_manifest import FileDigest

_CHUNK = 1024 * 1024


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def model_files(root: Path, skip: frozenset[str] = frozenset()) -> list[str]:
    """All regular files under ``root`` as sorted POSIX relative paths, minus ``skip``."""
    out = []
    for p in root.rglob("*"):
        if p.is_file() and not p.is_symlink():
            rel = p.relative_to(root).as_posix()
            if rel not in skip:
                out.append(rel)
    return sorted(out)


def digest_tree(root: Path, skip: frozenset[str] = frozenset()) -> dict[str, FileDigest]:
    """Size and sha256 of every file under ``root``."""
    return {
        rel: FileDigest(size=(root / rel).stat().st_size, sha256=sha256_file(root / rel))
        for rel in model_files(root, skip)
    }
