"""Real model archives for the model-store tests, built once per session: the Maven AAR (fails,
never skips, when missing), the model's files unpacked from it, and a zip and a tar.gz of them."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

from agent_monitor.settings import MODEL_MANIFEST
from asr.model_manifest import Manifest, load_manifest
from asr.offline.model_store import RECORD_NAME, ModelStore
from tests.asr.offline.model_archives import AAR_COORD, NAME, zip_dir


@pytest.fixture(scope="session")
def aar() -> Path:
    repo = Path(os.environ.get("MAVEN_REPO", Path.home() / ".m2" / "repository"))
    group, artifact, version = AAR_COORD
    path = repo / group / artifact / version / f"{artifact}-{version}.aar"
    if not path.is_file():
        pytest.fail(f"{path} missing: run .ci/install_model.sh (mvn dependency:get) first")
    return path


@pytest.fixture(scope="session")
def manifest() -> Manifest:
    return load_manifest(MODEL_MANIFEST)


@pytest.fixture(scope="session")
def model_files(aar: Path, manifest: Manifest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real small English model, unpacked from the AAR once (a plain model directory)."""
    store = ModelStore(tmp_path_factory.mktemp("aar-store"), manifest)
    record = store.install(aar)
    path = store.model_dir / record.name
    (path / RECORD_NAME).unlink()
    return path


@pytest.fixture(scope="session")
def official_zip(model_files: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive laid out like the official download: one top directory named after the model."""
    return zip_dir(model_files, tmp_path_factory.mktemp("zip") / f"{NAME}.zip", NAME)


@pytest.fixture(scope="session")
def model_tgz(model_files: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("tgz") / "model.tar.gz"
    with tarfile.open(dest, "w:gz", compresslevel=1) as tf:
        tf.add(model_files, arcname="my-model")
    return dest


@pytest.fixture()
def store(tmp_path: Path, manifest: Manifest) -> ModelStore:
    return ModelStore(tmp_path / "models", manifest)
