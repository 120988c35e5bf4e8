"""Fixtures for the emotion tests: real clips from the shared data, the shipped stress model."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from agent_monitor.audio.noise import NoiseBank
from agent_monitor.settings import Settings, StressSettings
from emotion.model import StressModel, load_model
from emotion.offline.cache import FeatureCache
from emotion.offline.dataset import (
    CLEAN,
    MULAW,
    ClipTable,
    default_jobs,
    find_corpora,
    load_clips,
    measure_clips,
    read_audio,
)
from emotion.offline.training import TrainConfig

Audio = tuple[npt.NDArray[np.float32], int]


@pytest.fixture(scope="session")
def emotion_dir(eval_data: Path) -> Path:
    return eval_data / "emotion"


@pytest.fixture(scope="session")
def ravdess(emotion_dir: Path) -> Path:
    return emotion_dir / "ravdess"


@pytest.fixture(scope="session")
def casia(emotion_dir: Path) -> Path:
    return emotion_dir / "casia"


@pytest.fixture(scope="session")
def stress_settings(base_settings: Settings) -> StressSettings:
    return base_settings.stress


@pytest.fixture(scope="session")
def model(base_settings: Settings) -> StressModel:
    return load_model(base_settings.stress.model_file)


def load(path: Path) -> Audio:
    return read_audio(path)


@pytest.fixture(scope="session")
def angry_male(ravdess: Path) -> Audio:
    """RAVDESS actor 01 (male), angry, strong intensity."""
    return load(ravdess / "03-01-05-02-01-01-01.wav")


@pytest.fixture(scope="session")
def neutral_male(ravdess: Path) -> Audio:
    """RAVDESS actor 01 (male), neutral."""
    return load(ravdess / "03-01-01-01-01-01-01.wav")


@pytest.fixture(scope="session")
def neutral_female(ravdess: Path) -> Audio:
    """RAVDESS actor 02 (female), neutral."""
    return load(ravdess / "03-01-01-01-01-01-02.wav")


@pytest.fixture(scope="session")
def noise_bank(eval_data: Path) -> NoiseBank:
    return NoiseBank.from_data_dir(eval_data)


@pytest.fixture(scope="session")
def stress_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh ``data_dir`` whose feature cache the tests share (CLI runs set it in the environment).

    Under pytest-xdist every worker of the run gets the same folder (in the run's base temporary
    folder), so the clips are measured once however the test files are spread over the workers."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the run's folder, above each worker's own
    folder = base / "stress-data"
    folder.mkdir(exist_ok=True)
    return folder


@contextmanager
def _held(lock: Path) -> Iterator[None]:
    """An exclusive lock on the file ``lock`` between the processes of a test run."""
    with lock.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def emotion_table(emotion_dir: Path, noise_bank: NoiseBank, stress_data_dir: Path) -> ClipTable:
    """Features of every shared emotion clip clean, 8 kHz mu-law and on the training lines.

    Measured from scratch (a fresh cache folder): about 2 minutes on one core, in one worker
    process per processor (the same table).
    """
    cache = FeatureCache(stress_data_dir / "cache" / "stress-features")
    augment = TrainConfig().augment
    with _held(stress_data_dir / "measuring.lock"):  # another worker measuring: wait, then read its cache
        return ClipTable.concat(
            [
                measure_clips(load_clips(c), [CLEAN, MULAW], augment, noise_bank, cache, default_jobs())
                for c in find_corpora(emotion_dir)
            ]
        )
