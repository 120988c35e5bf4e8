"""Fetching a model over HTTP and the ``models`` CLI, with real archives. ``fetch`` runs against a
local HTTP server on 127.0.0.1 (the real download sites are not reachable in tests); the server is
the only stand-in. The archives are built from the real AAR (``conftest.py``), which must be in the
local Maven repository; these tests fail, never skip, when it is missing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from agent_monitor.errors import (
    ModelDownloadError,
    ModelError,
)
from agent_monitor.settings import REPO_ROOT
from asr.model_manifest import ArchiveSource, Manifest
from asr.offline.file_digests import sha256_file
from asr.offline.model_fetch import fetch
from asr.offline.model_store import ModelStore
from tests.asr.offline.model_archives import NAME, free_port, http_server, leftovers


# --- fetch against a local HTTP server ---------------------------------------------------------
class _Handler(http.server.BaseHTTPRequestHandler):
    blobs: ClassVar[dict[str, bytes]] = {}
    ranges: ClassVar[list[str | None]] = []
    cut_after: ClassVar[list[int]] = []  # send only this many bytes of the next response

    def do_GET(self) -> None:
        data = self.blobs.get(self.path)
        if data is None:
            self.send_error(404)
            return
        rng = self.headers.get("Range")
        self.ranges.append(rng)
        start = int(rng.split("=")[1].split("-")[0]) if rng else 0
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        body = data[start:]
        if self.cut_after:
            body = body[: self.cut_after.pop()]
            self.close_connection = True
        # a client that refuses the download on its headers (a size mismatch) closes the connection
        # before the body is sent: that is the behaviour under test, not a server fault to print
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture()
def server(official_zip: Path) -> Iterator[str]:
    _Handler.blobs = {f"/{NAME}.zip": official_zip.read_bytes()}
    _Handler.ranges = []
    _Handler.cut_after = []
    with http_server(_Handler) as url:
        yield url


def _manifest_with(manifest: Manifest, **source: Any) -> Manifest:
    spec = manifest.models[NAME]
    src = ArchiveSource(kind="zip", model_path=NAME, **source)
    return dataclasses.replace(manifest, models={NAME: dataclasses.replace(spec, sources=(src,))})


def test_fetch_checks_size_and_sha256_then_installs(
    server: str, official_zip: Path, manifest: Manifest, tmp_path: Path
) -> None:
    m = _manifest_with(
        manifest,
        url=f"{server}/{NAME}.zip",
        size=official_zip.stat().st_size,
        sha256=sha256_file(official_zip),
    )
    store = ModelStore(tmp_path / "models", m)
    record = fetch(store, NAME, progress=False)
    assert record is not None and record.archive_sha256 == sha256_file(official_zip)
    assert record.origin == f"{server}/{NAME}.zip" and record.manifest_checked
    assert leftovers(store) == [NAME]
    assert list((store.model_dir / "downloads").iterdir()) == []  # the archive is removed
    assert fetch(store, NAME, progress=False) is None  # installed and verified: nothing to do
    assert len(_Handler.ranges) == 1


def test_fetch_checksum_mismatch_installs_nothing(server: str, manifest: Manifest, tmp_path: Path) -> None:
    m = _manifest_with(manifest, url=f"{server}/{NAME}.zip", sha256="0" * 64)
    store = ModelStore(tmp_path / "models", m)
    with pytest.raises(ModelDownloadError, match="checksum mismatch") as err:
        fetch(store, NAME, progress=False)
    assert "agent-monitor models install FILE" in str(err.value)
    assert leftovers(store) == []
    assert list((store.model_dir / "downloads").iterdir()) == []  # a bad download is deleted


def test_fetch_size_mismatch_is_refused_before_download(
    server: str, manifest: Manifest, tmp_path: Path
) -> None:
    m = _manifest_with(manifest, url=f"{server}/{NAME}.zip", size=123, sha256="0" * 64)
    with pytest.raises(ModelDownloadError, match="the manifest expects 123"):
        fetch(ModelStore(tmp_path / "models", m), NAME, progress=False)


def test_fetch_connection_refused_explains_offline_install(manifest: Manifest, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/{NAME}.zip"
    store = ModelStore(tmp_path / "models", _manifest_with(manifest, url=url, sha256="0" * 64))
    with pytest.raises(ModelDownloadError) as err:
        fetch(store, NAME, progress=False)
    msg = str(err.value)
    assert "Connection refused" in msg and "\n" not in msg
    assert f"without network, download {url} on another machine" in msg
    assert "agent-monitor models install FILE" in msg
    assert leftovers(store) == []


def test_interrupted_fetch_leaves_no_model_and_resumes(
    server: str, official_zip: Path, manifest: Manifest, tmp_path: Path
) -> None:
    m = _manifest_with(manifest, url=f"{server}/{NAME}.zip", sha256=sha256_file(official_zip))
    store = ModelStore(tmp_path / "models", m)
    _Handler.cut_after = [10_000_000]
    with pytest.raises(ModelDownloadError, match="interrupted after 10000000 of"):
        fetch(store, NAME, progress=False)
    assert leftovers(store) == []  # no model, no temp folder
    part = store.model_dir / "downloads" / f"{NAME}.zip.part"
    assert part.stat().st_size == 10_000_000
    record = fetch(store, NAME, progress=False)
    assert record is not None and record.archive_sha256 == sha256_file(official_zip)
    assert _Handler.ranges == [None, "bytes=10000000-"]
    assert leftovers(store) == [NAME]


def test_fetch_unpinned_needs_explicit_consent(
    server: str, official_zip: Path, manifest: Manifest, tmp_path: Path
) -> None:
    m = _manifest_with(manifest, url=f"{server}/{NAME}.zip")
    store = ModelStore(tmp_path / "models", m)
    with pytest.raises(ModelDownloadError, match="no sha256 pinned"):
        fetch(store, NAME, progress=False)
    assert _Handler.ranges == []
    record = fetch(store, NAME, allow_unpinned=True, progress=False)
    assert record is not None and record.archive_sha256 == sha256_file(official_zip)


def test_fetch_unknown_model(store: ModelStore) -> None:
    with pytest.raises(ModelError, match=r"unknown model 'nope' \(known: vosk-model-small-en-us-0\.15"):
        fetch(store, "nope", progress=False)


# --- the CLI -----------------------------------------------------------------------------------
def _cli(*args: str, model_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AGENT_MONITOR_MODEL_DIR": str(model_dir)}
    env.pop("AGENT_MONITOR_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "agent_monitor", "models", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=120,
    )


def _one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("agent-monitor: error: "), proc.stderr
    return lines[0]


def test_cli_install_verify_list(aar: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    proc = _cli("install", str(aar), "--name", NAME, model_dir=models)
    assert proc.returncode == 0, proc.stderr
    assert f"installed {NAME}" in proc.stdout and "checked against the manifest" in proc.stdout
    proc = _cli("verify", NAME, model_dir=models)
    assert proc.returncode == 0 and "OK, 15 files" in proc.stdout
    proc = _cli("list", model_dir=models)
    assert proc.returncode == 0
    rows = {line.split()[0]: line for line in proc.stdout.splitlines()[1:-1]}
    assert "installed" in rows[NAME]
    assert rows["vosk-model-small-cn-0.22"].split()[2] == "-"
    assert "vosk-model-en-us-0.22" in rows
    with (models / NAME / "am/final.mdl").open("r+b") as f:
        f.seek(5)
        f.write(b"\x00\x01\x02")
    line = _one_line_error(_cli("verify", NAME, model_dir=models))
    assert "am/final.mdl is corrupt" in line


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    models = tmp_path / "models"
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00" * 1000)
    assert "not a model archive" in _one_line_error(_cli("install", str(junk), model_dir=models))
    empty = tmp_path / "empty.zip"
    empty.write_bytes(b"")
    assert "empty file" in _one_line_error(_cli("install", str(empty), model_dir=models))
    assert "no such file" in _one_line_error(_cli("install", str(tmp_path / "missing.zip"), model_dir=models))
    assert "is not installed" in _one_line_error(_cli("verify", NAME, model_dir=models))
    assert "unknown model" in _one_line_error(_cli("fetch", "nope", model_dir=models))
    manifest = tmp_path / "manifest.toml"
    manifest.write_text(
        f'[models."{NAME}"]\nlang = "en-us"\ndescription = "test"\n'
        f'[[models."{NAME}".sources]]\nurl = "http://127.0.0.1:{free_port()}/m.zip"\nkind = "zip"\n'
        f'sha256 = "{"a" * 64}"\n'
    )
    line = _one_line_error(_cli("--manifest", str(manifest), "fetch", NAME, model_dir=models))
    assert "Connection refused" in line and "agent-monitor models install FILE" in line
    bad_manifest = tmp_path / "bad.toml"
    bad_manifest.write_text("[models\n")
    assert "not valid TOML" in _one_line_error(
        _cli("--manifest", str(bad_manifest), "list", model_dir=models)
    )
    bad_manifest.write_bytes(b"\xff\xfe[models]\n")  # not UTF-8: was a traceback
    assert "not valid TOML" in _one_line_error(
        _cli("--manifest", str(bad_manifest), "list", model_dir=models)
    )
    assert not models.exists() or leftovers(ModelStore(models)) == []
