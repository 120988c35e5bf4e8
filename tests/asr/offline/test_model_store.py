"""The model store with real archives: the real Maven AAR, and zip/tar.gz/directory sources built in
tmp from the real model files, plus broken ones. ``fetch`` runs against a local HTTP server on
127.0.0.1 (the real download sites are not reachable in tests); the server is the only stand-in.

The AAR must be in the local Maven repository (``.ci/install_model.sh`` puts it there); these
tests fail, never skip, when it is missing.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from agent_monitor.errors import (
    ModelError,
    ModelLayoutError,
    ModelNotInstalledError,
)
from agent_monitor.settings import MODEL_MANIFEST, REPO_ROOT, Settings
from asr.model_manifest import Manifest, load_manifest
from asr.model_path import resolve_model_path
from asr.offline.file_digests import sha256_file
from asr.offline.model_store import RECORD_NAME, ModelStore
from tests.asr.offline.model_archives import AAR_SHA256, NAME, leftovers, zip_dir


# --- install from real sources -------------------------------------------------------------------
def test_pinned_aar_checksum_matches_the_file_maven_fetched(aar: Path, manifest: Manifest) -> None:
    maven = [s for s in manifest.models[NAME].sources if s.kind == "aar"]
    assert len(maven) == 1
    assert maven[0].sha256 == AAR_SHA256 == sha256_file(aar)
    assert maven[0].size == aar.stat().st_size
    assert maven[0].maven == "com.alphacephei:vosk-model-en:0.3.45:aar"


def test_install_real_aar_recognises_the_model_and_records_it(aar: Path, store: ModelStore) -> None:
    record = store.install(aar)
    assert record.name == NAME  # found by matching the pinned per-file sha256 list
    assert record.source_kind == "aar" and record.source_root == "assets/model-en-us"
    assert record.manifest_checked and record.archive_sha256 == AAR_SHA256
    path = store.model_dir / NAME
    saved = json.loads((path / RECORD_NAME).read_text(encoding="utf-8"))
    assert saved["files"]["am/final.mdl"]["sha256"] == sha256_file(path / "am/final.mdl")
    assert set(saved["files"]) == {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()} - {
        RECORD_NAME
    }
    assert leftovers(store) == [NAME]  # no temp folders, nothing else from the AAR
    result = store.verify(NAME)
    assert result.files_checked == 15 and "manifest" in result.against

    import vosk

    vosk.SetLogLevel(-1)
    vosk.Model(str(path))  # the installed model really loads


@pytest.mark.parametrize("kind", ["zip", "tar.gz", "directory", "model-root-directory"])
def test_install_zip_tgz_and_directories(
    kind: str, store: ModelStore, official_zip: Path, model_tgz: Path, model_files: Path, tmp_path: Path
) -> None:
    if kind == "zip":
        source, expected_name = official_zip, NAME  # name from the single top directory
    elif kind == "tar.gz":
        source, expected_name = model_tgz, NAME  # top dir "my-model", recognised by its files
    elif kind == "directory":
        source = tmp_path / "unpacked"
        shutil.copytree(model_files, source / "inner-dir")
        expected_name = NAME
    else:
        source, expected_name = model_files, NAME
    record = store.install(source)
    assert record.name == expected_name and record.manifest_checked
    assert store.verify(expected_name).files_checked == 15
    assert leftovers(store) == [expected_name]


def test_unknown_model_installs_under_its_folder_or_given_name(model_files: Path, tmp_path: Path) -> None:
    changed = tmp_path / "custom-model"
    shutil.copytree(model_files, changed)
    (changed / "conf/model.conf").write_text("--min-active=100\n--max-active=2000\n--beam=11.0\n")
    store = ModelStore(tmp_path / "models", load_manifest(MODEL_MANIFEST))
    record = store.install(changed)
    assert record.name == "custom-model" and not record.manifest_checked
    assert store.install(changed, "other-name").name == "other-name"
    assert store.verify("other-name").against.startswith("install record")
    # an installed model is a source too (copied to another machine or name): its own install record
    # is not one of its files, so the copy verifies
    again = store.install(store.model_dir / "other-name", "third-name")
    assert ".agent-monitor-model.json" not in again.files
    assert store.verify("third-name").files_checked == len(store.install(changed, "x").files)
    # under the known name it is refused: content differs from the manifest's pinned files
    with pytest.raises(
        ModelLayoutError, match=r"not the model vosk-model-small-en-us-0\.15.*conf/model\.conf"
    ):
        store.install(changed, NAME)
    assert not (store.model_dir / NAME).exists()


def test_reinstall_replaces_atomically(store: ModelStore, official_zip: Path, aar: Path) -> None:
    store.install(official_zip)
    path = store.model_dir / NAME
    (path / "stale-extra-file").write_text("from the old install")
    old_inode = path.stat().st_ino
    record = store.install(aar)
    assert path.stat().st_ino != old_inode
    assert not (path / "stale-extra-file").exists()
    assert record.source_kind == "aar"
    assert leftovers(store) == [NAME]
    store.verify(NAME)


def test_failed_reinstall_keeps_the_old_model(store: ModelStore, official_zip: Path, tmp_path: Path) -> None:
    store.install(official_zip)
    bad = tmp_path / "bad.zip"
    bad.write_bytes(official_zip.read_bytes()[: official_zip.stat().st_size // 2])
    with pytest.raises(ModelLayoutError):
        store.install(bad, NAME)
    assert leftovers(store) == [NAME]
    store.verify(NAME)


def test_stale_temp_folder_of_a_dead_install_is_removed(store: ModelStore, official_zip: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    stale = store.model_dir / f".install-{dead.stdout.strip()}-abc"
    (stale / "model/am").mkdir(parents=True)
    store.install(official_zip)
    assert leftovers(store) == [NAME]


# --- broken sources: name what is missing or corrupt -----------------------------------------
def test_missing_final_mdl_is_named(store: ModelStore, model_files: Path, tmp_path: Path) -> None:
    src = zip_dir(model_files, tmp_path / "no-am.zip", NAME, skip=frozenset({"am/final.mdl"}))
    with pytest.raises(ModelLayoutError, match=r"incomplete model: am/final\.mdl missing"):
        store.install(src)
    assert leftovers(store) == []


def test_missing_ivector_and_graph_files_are_all_named(
    store: ModelStore, model_files: Path, tmp_path: Path
) -> None:
    src = tmp_path / "partial"
    shutil.copytree(model_files, src)
    (src / "ivector/final.ie").unlink()
    (src / "graph/Gr.fst").unlink()
    (src / "conf/mfcc.conf").write_bytes(b"")
    with pytest.raises(ModelLayoutError) as err:
        store.install(src)
    msg = str(err.value)
    for phrase in ("conf/mfcc.conf is empty (0 bytes)", "graph/Gr.fst missing", "ivector/final.ie missing"):
        assert phrase in msg
    assert "\n" not in msg
    assert leftovers(store) == []


def test_ivector_folder_required_when_the_acoustic_model_has_an_ivector_input(
    store: ModelStore, model_files: Path, tmp_path: Path
) -> None:
    src = tmp_path / "no-ivector"
    shutil.copytree(model_files, src)
    shutil.rmtree(src / "ivector")  # model.conf does not mention ivectors; final.mdl does
    with pytest.raises(ModelLayoutError, match=r"ivector/final\.dubm missing.*ivector/splice\.conf missing"):
        store.install(src, "no-ivector")


def test_truncated_zip(store: ModelStore, official_zip: Path, tmp_path: Path) -> None:
    bad = tmp_path / "cut.zip"
    bad.write_bytes(official_zip.read_bytes()[:1_000_000])
    with pytest.raises(ModelLayoutError, match=r"cut\.zip: truncated or damaged zip archive"):
        store.install(bad)
    assert leftovers(store) == []


def test_zip_crc_error_names_the_member(store: ModelStore, official_zip: Path, tmp_path: Path) -> None:
    bad = tmp_path / "crc.zip"
    shutil.copyfile(official_zip, bad)
    with zipfile.ZipFile(bad) as zf:
        info = zf.getinfo(f"{NAME}/graph/HCLr.fst")
    with bad.open("r+b") as f:  # stored (uncompressed) member: flip one byte in its data
        f.seek(info.header_offset + 26)
        name_len, extra_len = int.from_bytes(f.read(2), "little"), int.from_bytes(f.read(2), "little")
        pos = info.header_offset + 30 + name_len + extra_len + info.file_size // 2
        f.seek(pos)
        byte = f.read(1)
        f.seek(pos)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ModelLayoutError, match=r"graph/HCLr\.fst is corrupt in the archive \(Bad CRC-32"):
        store.install(bad)
    assert leftovers(store) == []


def test_truncated_tar_gz(store: ModelStore, model_tgz: Path, tmp_path: Path) -> None:
    bad = tmp_path / "cut.tar.gz"
    bad.write_bytes(model_tgz.read_bytes()[: model_tgz.stat().st_size // 3])
    with pytest.raises(ModelLayoutError, match=r"truncated or damaged tar archive at my-model/"):
        store.install(bad)
    assert leftovers(store) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"empty file \(0 bytes\)"),
        (b"this is not a model\n" * 50, r"not a model archive"),
    ],
)
def test_not_an_archive(store: ModelStore, tmp_path: Path, content: bytes, message: str) -> None:
    src = tmp_path / "thing.zip"
    src.write_bytes(content)
    with pytest.raises(ModelLayoutError, match=message):
        store.install(src)
    assert leftovers(store) == []


def test_aar_without_model_like_0_3_75(store: ModelStore, tmp_path: Path) -> None:
    """vosk-model-en 0.3.75 on Maven Central holds only assets/model-en-us/{README,uuid}."""
    src = tmp_path / "vosk-model-en-0.3.75.aar"
    with zipfile.ZipFile(src, "w") as zf:
        zf.writestr("AndroidManifest.xml", "<manifest/>")
        zf.writestr("assets/model-en-us/README", "US English model for mobile Vosk applications\n")
        zf.writestr("assets/model-en-us/uuid", "8299698e-4447-4ce1-be96-cccda9168067")
    with pytest.raises(ModelLayoutError, match="no Vosk model inside"):
        store.install(src)


def test_unsafe_archive_paths_are_refused(store: ModelStore, tmp_path: Path) -> None:
    src = tmp_path / "evil.zip"
    with zipfile.ZipFile(src, "w") as zf:
        zf.writestr("../escape/am/final.mdl", "x")
    with pytest.raises(ModelLayoutError, match="unsafe path in archive"):
        store.install(src)
    assert not (tmp_path / "escape").exists()


def test_missing_source_and_bad_names(store: ModelStore, official_zip: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelLayoutError, match="no such file or directory"):
        store.install(tmp_path / "nope.zip")
    for bad in ("../x", ".hidden", "downloads", "a/b"):
        with pytest.raises(ModelError, match="invalid model name"):
            store.install(official_zip, bad)


# --- verify ------------------------------------------------------------------------------------
def test_verify_names_changed_truncated_and_missing_files(store: ModelStore, official_zip: Path) -> None:
    store.install(official_zip)
    path = store.model_dir / NAME
    with (path / "graph/Gr.fst").open("r+b") as f:  # one changed byte, same size
        f.seek(1_000_000)
        b = f.read(1)
        f.seek(1_000_000)
        f.write(bytes([b[0] ^ 1]))
    with pytest.raises(ModelLayoutError, match=r"graph/Gr\.fst is corrupt \(sha256") as err:
        store.verify(NAME)
    assert "am/final.mdl" not in str(err.value)
    with (path / "ivector/final.ie").open("r+b") as f:
        f.truncate(1000)
    (path / "README").unlink()
    with pytest.raises(ModelLayoutError) as err:
        store.verify(NAME)
    msg = str(err.value)
    assert "ivector/final.ie has 1000 bytes, expected 8288887" in msg
    assert "README missing" in msg and "graph/Gr.fst is corrupt" in msg


def test_verify_not_installed(store: ModelStore) -> None:
    with pytest.raises(
        ModelNotInstalledError, match=r"agent-monitor models fetch vosk-model-small-en-us-0\.15"
    ):
        store.verify(NAME)


# --- resolve_model_path (what the recognizer uses) ---------------------------------------------
def test_resolve_model_path(settings: Settings, official_zip: Path, tmp_path: Path) -> None:
    s = settings.model_copy(update={"model_dir": tmp_path / "models"})
    with pytest.raises(ModelNotInstalledError) as err:
        resolve_model_path(s)
    assert "https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip" in str(err.value)
    assert "agent-monitor models install FILE" in str(err.value)
    with pytest.raises(ModelNotInstalledError, match="agent-monitor models install ARCHIVE_OR_DIR --name x1"):
        resolve_model_path(s, "x1")
    ModelStore(s.model_dir).install(official_zip)
    assert resolve_model_path(s) == s.model_dir / NAME
    assert resolve_model_path(s, str(s.model_dir / NAME)) == s.model_dir / NAME
    (s.model_dir / NAME / "am/final.mdl").unlink()
    with pytest.raises(ModelLayoutError, match=r"incomplete: am/final\.mdl missing"):
        resolve_model_path(s)


def test_manifest_is_tracked_not_ignored() -> None:
    proc = subprocess.run(
        ["git", "check-ignore", "-q", "models/manifest.toml"], cwd=REPO_ROOT, capture_output=True
    )
    assert proc.returncode == 1  # 1 = not ignored
    proc = subprocess.run(
        ["git", "check-ignore", "-q", f"models/{NAME}/am/final.mdl"], cwd=REPO_ROOT, capture_output=True
    )
    assert proc.returncode == 0  # installed models are ignored


def test_manifest_known_models(manifest: Manifest) -> None:
    assert {NAME, "vosk-model-small-cn-0.22", "vosk-model-en-us-0.22"} <= set(manifest.models)
    spec = manifest.models[NAME]
    assert spec.official.url == f"https://alphacephei.com/vosk/models/{NAME}.zip"
    assert len(spec.files) == 13
    assert hashlib.sha256(b"").hexdigest() not in {d.sha256 for d in spec.files.values()}


def test_swap_exchanges_directories_in_one_step(tmp_path: Path) -> None:
    from asr.offline.atomic_swap import swap_into_place

    old, new = tmp_path / "model", tmp_path / "staged"
    old.mkdir()
    (old / "v").write_text("old")
    new.mkdir()
    (new / "v").write_text("new")
    swap_into_place(new, old, tmp_path / "aside")
    assert (old / "v").read_text() == "new"
    # on Linux renameat2(RENAME_EXCHANGE) leaves the old directory where the staged one was
    assert (new / "v").read_text() == "old" or (tmp_path / "aside" / "v").read_text() == "old"
