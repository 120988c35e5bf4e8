"""Downloading a known model: progress, resume, size + sha256 check, then an atomic install.

The archive is downloaded to ``<model_dir>/downloads/<file>.part`` (git-ignored, never a model
directory). An interrupted download keeps the ``.part`` file, and the next ``fetch`` resumes it
with an HTTP ``Range`` request when the server allows (else it starts over); a size or checksum
mismatch deletes it. Only a complete, verified archive is handed to
:meth:`asr.offline.model_store.ModelStore.install`, which itself installs atomically, so a failed or
interrupted fetch never leaves a half model in place.
"""

from __future__ import annotations

import hashlib
import http.client
import sys
import urllib.error
import urllib.request
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any
from urllib.parse import urlparse

from agent_monitor.errors import ModelDownloadError, ModelError
from asr.model_manifest import ArchiveSource, ModelSpec
from asr.offline.model_store import InstallRecord, ModelStore

_CHUNK = 256 * 1024
DOWNLOADS = "downloads"


def fetch(
    store: ModelStore,
    name: str,
    *,
    allow_unpinned: bool = False,
    force: bool = False,
    progress: bool | None = None,
    timeout: float = 30.0,
) -> InstallRecord | None:
    """Download model ``name`` from its manifest sources (in order) and install it.

    Returns None (and downloads nothing) when the model is already installed and passes
    :meth:`ModelStore.verify`, unless ``force``.
    ``progress``: None = a tqdm bar on a terminal, plain lines otherwise; False = silent.
    Raises :class:`ModelDownloadError` (one line, with offline install instructions).
    """
    spec = store.manifest.get(name)
    if spec is None:
        known = ", ".join(store.manifest.models) or "none"
        raise ModelError(
            f"unknown model {name!r} (known: {known}); install other models from a file with"
            " `agent-monitor models install ARCHIVE_OR_DIR --name NAME`"
        )
    if not force and (store.model_dir / name).is_dir():
        try:
            store.verify(name)
        except ModelError as exc:
            _say(f"re-fetching: {exc}", progress)
        else:
            return None
    failures: list[str] = []
    for source in spec.sources:
        if source.sha256 is None and not allow_unpinned:
            failures.append(f"{source.url}: no sha256 pinned in the manifest (use --allow-unpinned)")
            continue
        try:
            archive, digest = download(
                source, store.model_dir / DOWNLOADS, progress=progress, timeout=timeout
            )
        except ModelDownloadError as exc:
            failures.append(str(exc))
            if source is not spec.sources[-1]:
                _say(f"{exc}; trying the next source", progress)
            continue
        if source.sha256 is None:
            _say(f"{archive.name}: no pinned checksum; measured sha256 {digest}", progress)
        record = store.install(
            archive, name, origin=source.url, model_path=source.model_path, archive_sha256=digest
        )
        archive.unlink()
        return record
    raise ModelDownloadError(f"cannot fetch {name}: {'; '.join(failures)}; {offline_hint(spec)}")


def offline_hint(spec: ModelSpec) -> str:
    return (
        f"without network, download {spec.official.url} on another machine and run"
        f" `agent-monitor models install FILE`"
    )


def download(
    source: ArchiveSource, folder: Path, *, progress: bool | None = None, timeout: float = 30.0
) -> tuple[Path, str]:
    """Download ``source`` into ``folder``; returns the complete file and its sha256."""
    filename = PurePosixPath(urlparse(source.url).path).name or "model-archive"
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / filename
    part = folder / (filename + ".part")
    offset = part.stat().st_size if part.exists() else 0
    if source.size is not None and offset >= source.size:
        part.unlink()
        offset = 0
    resp = _open(source, part, offset, timeout)
    h = hashlib.sha256()
    with resp:
        resumed = offset > 0 and resp.status == 206 and _range_start(resp) == offset
        if resumed:
            with part.open("rb") as f:
                while chunk := f.read(_CHUNK):
                    h.update(chunk)
        else:
            offset = 0
        length = resp.headers.get("Content-Length")
        total = offset + int(length) if length and length.isdigit() else source.size
        if source.size is not None and total is not None and total != source.size:
            raise ModelDownloadError(
                f"{source.url}: server offers {total} bytes, the manifest expects {source.size}"
            )
        with _Progress(filename, total, offset, progress) as bar:
            received = _receive(resp, part, resumed, h, offset, bar, source.url)
    if total is not None and received < total:
        raise ModelDownloadError(
            f"{source.url}: download interrupted after {received} of {total} bytes; fetch again to resume"
        )
    digest = h.hexdigest()
    _check_complete(source, part, received, digest)
    part.replace(dest)
    return dest, digest


def _open(source: ArchiveSource, part: Path, offset: int, timeout: float) -> Any:
    """The HTTP response for ``source``, asking for the bytes after ``offset`` when resuming."""
    headers = {"User-Agent": "agent-monitor"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        return urllib.request.urlopen(urllib.request.Request(source.url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and offset:  # our partial file is not a prefix the server knows
            part.unlink()
        raise ModelDownloadError(f"{source.url}: HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise ModelDownloadError(f"{source.url}: {_reason(exc.reason)}") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise ModelDownloadError(f"{source.url}: {_reason(exc)}") from exc


def _receive(resp: Any, part: Path, resumed: bool, h: Any, offset: int, bar: _Progress, url: str) -> int:
    """Append (or write) the response body to ``part``, hashing it; returns the bytes now held."""
    received = offset
    try:
        with part.open("ab" if resumed else "wb") as out:
            while chunk := resp.read(_CHUNK):
                out.write(chunk)
                h.update(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    except (OSError, http.client.HTTPException) as exc:
        raise ModelDownloadError(
            f"{url}: download interrupted after {received} bytes ({_reason(exc)}); fetch again to resume"
        ) from exc
    return received


def _check_complete(source: ArchiveSource, part: Path, received: int, digest: str) -> None:
    """Delete the download and say why when its size or sha256 is not the manifest's."""
    if source.size is not None and received != source.size:
        part.unlink()
        raise ModelDownloadError(
            f"{source.url}: got {received} bytes, the manifest expects {source.size}; download deleted"
        )
    if source.sha256 is not None and digest != source.sha256:
        part.unlink()
        raise ModelDownloadError(
            f"{source.url}: checksum mismatch (sha256 {digest}, expected {source.sha256}); download deleted"
        )


def _range_start(resp: Any) -> int | None:
    value = str(resp.headers.get("Content-Range", ""))  # "bytes 100-999/1000"
    try:
        return int(value.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _reason(reason: object) -> str:
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__


def _say(message: str, progress: bool | None) -> None:
    if progress is not False:
        print(f"agent-monitor: {message}", file=sys.stderr)


class _Progress:
    """A tqdm bar on a terminal; otherwise a plain line every 10 %."""

    def __init__(self, label: str, total: int | None, initial: int, enabled: bool | None) -> None:
        self.label = label
        self.total = total
        self.done = initial
        self.enabled = enabled is not False
        self.bar: Any = None
        self.next_pct = 10
        if self.enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(
                total=total, initial=initial, unit="B", unit_scale=True, desc=label, file=sys.stderr
            )
        elif self.enabled:
            start = "resuming" if initial else "downloading"
            size = f" ({total / 1e6:.1f} MB)" if total else ""
            print(f"{start} {label}{size}", file=sys.stderr, flush=True)
            if total:
                self.next_pct = (initial * 100 // total) // 10 * 10 + 10

    def update(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        elif self.enabled and self.total:
            pct = self.done * 100 // self.total
            if pct >= self.next_pct:
                print(f"{self.label}: {pct}% ({self.done / 1e6:.1f} MB)", file=sys.stderr, flush=True)
                self.next_pct = pct // 10 * 10 + 10

    def __enter__(self) -> _Progress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.bar is not None:
            self.bar.close()
