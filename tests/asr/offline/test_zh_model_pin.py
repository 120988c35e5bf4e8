"""The Mandarin model ``vosk-model-small-cn-0.22`` is pinned like the English one (issue #17).

No copy of the Chinese model exists on the development machines, so these tests check the pins
themselves and that ``fetch``/``install``/``verify`` enforce them: a download of the wrong size is
refused without ``--allow-unpinned``, content that is not the pinned model is refused by
``install`` and ``verify`` names each file whose sha256 differs. The sha-only pin path (sizes not
published) is exercised end to end on the real English model files, pinned without sizes under a
test manifest. ``fetch`` runs against a local HTTP server (the real site is unreachable in tests).
"""

from __future__ import annotations

import dataclasses
import http.server
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from agent_monitor.errors import ModelDownloadError, ModelLayoutError
from agent_monitor.settings import MODEL_MANIFEST, Settings
from asr.model_manifest import ArchiveSource, FileDigest, Manifest, load_manifest
from asr.offline.file_digests import digest_tree
from asr.offline.model_fetch import fetch
from asr.offline.model_store import RECORD_NAME, ModelStore
from asr.streaming import model_language
from tests.asr.offline.model_archives import http_server

ZH = "vosk-model-small-cn-0.22"
EN = "vosk-model-small-en-us-0.15"
ZH_ZIP_SHA256 = "3af8b0e7e0f835ae9d414ce5df580237a3cfb08d586c9fbbb0f7ff29ad5b14ba"
ZH_FILES = {
    "am/final.mdl": "91eda2c04c4f599361cb92b0e5298ccdf6b3c7a1fa52bfcefcd2c4e07aa1c131",
    "graph/Gr.fst": "46d41a9b1723abccdcb354d731a5b58d87c060100d88ada1a3e31220f52b0434",
    "graph/HCLr.fst": "798af0d9ba6f2d727747f58e1e7b2305f8618bc8ea7f6c51beecd8a2c965b965",
    "ivector/final.ie": "c39d46fbff04efb7baa9660ae7a728b0e2f35a4a1250b56ed3a599e26956df86",
}


@pytest.fixture(scope="module")
def manifest() -> Manifest:
    return load_manifest(MODEL_MANIFEST)


@pytest.fixture(scope="module")
def en_model(base_settings: Settings) -> Path:
    """The real installed English model (fails, never skips, when missing)."""
    path = base_settings.model_dir / EN
    if not (path / "am" / "final.mdl").is_file():
        pytest.fail(f"{path} missing: install the English model (scripts/setup.sh)")
    return path


def _copy_model(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(RECORD_NAME))
    return dest


def test_manifest_pins_the_zh_archive_and_files_with_provenance(manifest: Manifest) -> None:
    spec = manifest.models[ZH]
    assert spec.lang == "zh-cn"
    zip_source = spec.official
    assert zip_source.url == f"https://alphacephei.com/vosk/models/{ZH}.zip"
    assert zip_source.size == 43_898_754 and zip_source.sha256 == ZH_ZIP_SHA256
    assert "two independent" in zip_source.provenance and "NOT measured here" in zip_source.provenance
    assert {rel: d.sha256 for rel, d in spec.files.items()} == ZH_FILES
    assert all(d.size is None for d in spec.files.values())  # sizes were not published: not invented
    assert "build-check script" in spec.files_provenance
    assert set(spec.required) <= set(ZH_FILES)
    assert model_language(ZH) == "zh"  # eval asr and transcribe label its output as Chinese


class _Blob(http.server.BaseHTTPRequestHandler):
    body: ClassVar[bytes] = b""
    requests: ClassVar[int] = 0

    def do_GET(self) -> None:
        type(self).requests += 1
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture()
def blob_server() -> Iterator[str]:
    _Blob.body = b"PK\x03\x04 not the Chinese model" * 1000
    _Blob.requests = 0
    with http_server(_Blob) as url:
        yield f"{url}/{ZH}.zip"


def test_fetch_zh_needs_no_allow_unpinned_and_refuses_a_wrong_download(
    manifest: Manifest, blob_server: str, tmp_path: Path
) -> None:
    spec = manifest.models[ZH]
    pinned = dataclasses.replace(spec.official, url=blob_server)  # same pins, local server
    m = dataclasses.replace(manifest, models={ZH: dataclasses.replace(spec, sources=(pinned,))})
    store = ModelStore(tmp_path / "models", m)
    with pytest.raises(ModelDownloadError) as err:
        fetch(store, ZH, progress=False)
    msg = str(err.value)
    assert "the manifest expects 43898754" in msg
    assert "allow-unpinned" not in msg
    assert _Blob.requests == 1
    assert not (store.model_dir / ZH).exists()


def test_install_refuses_content_that_is_not_the_pinned_zh_model(
    manifest: Manifest, en_model: Path, tmp_path: Path
) -> None:
    fake = _copy_model(en_model, tmp_path / "src" / ZH)
    store = ModelStore(tmp_path / "models", manifest)
    with pytest.raises(ModelLayoutError, match=f"not the model {ZH} of the manifest") as err:
        store.install(fake, name=ZH)
    for rel in ZH_FILES:
        assert f"{rel} is corrupt (sha256" in str(err.value)
    assert not (store.model_dir / ZH).exists()


def test_verify_names_each_zh_file_whose_sha256_differs(
    manifest: Manifest, en_model: Path, tmp_path: Path
) -> None:
    store = ModelStore(tmp_path / "models", manifest)
    _copy_model(en_model, store.model_dir / ZH)  # a folder under the zh name, not the zh model
    with pytest.raises(ModelLayoutError, match=f"model {ZH} in .* is damaged") as err:
        store.verify(ZH)
    for rel, sha in ZH_FILES.items():
        assert f"{rel} is corrupt (sha256" in str(err.value) and f"expected {sha[:12]}" in str(err.value)


def test_sha_only_pins_install_and_then_catch_a_tampered_file(
    manifest: Manifest, en_model: Path, tmp_path: Path
) -> None:
    """The zh pin shape (sha256, no size) on files we have: the real English model's."""
    real = digest_tree(en_model, skip=frozenset({RECORD_NAME}))
    pins = {rel: FileDigest(size=None, sha256=real[rel].sha256) for rel in ZH_FILES}
    spec = dataclasses.replace(
        manifest.models[ZH],
        name="sha-only-test",
        files=pins,
        sources=(ArchiveSource(url="http://127.0.0.1:9/x.zip", kind="zip"),),
    )
    store = ModelStore(tmp_path / "models", dataclasses.replace(manifest, models={spec.name: spec}))
    record = store.install(_copy_model(en_model, tmp_path / "src" / "m"), name=spec.name)
    assert record.manifest_checked
    assert store.verify(spec.name).files_checked == len(real)
    with (store.model_dir / spec.name / "graph/HCLr.fst").open("r+b") as f:  # same size, one byte
        f.seek(4096)
        b = f.read(1)
        f.seek(4096)
        f.write(bytes([b[0] ^ 0xFF]))
    with pytest.raises(ModelLayoutError, match=r"graph/HCLr\.fst is corrupt \(sha256"):
        store.verify(spec.name)
