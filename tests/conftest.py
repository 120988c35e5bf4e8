"""Shared fixtures: real data from the shared development split, real settings in temp dirs.

The evaluation data path comes from ``AGENT_MONITOR_EVAL_DATA_DIR`` (default ``../shared/data``
beside the repository). Tests that need it fail, never skip, when it is missing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent_monitor.settings import Settings, load_settings


@pytest.fixture(scope="session")
def base_settings() -> Settings:
    """The settings of the environment, with 4 spare recognizers (every test server would otherwise
    warm the production default, 32: about 16 s of CPU and 500 MiB at each start); speech runs in
    the test's process (``server.workers`` 0, whatever ``auto`` means on the machine) unless the
    environment says otherwise (the worker process tests, ``tests/agent_monitor/test_workers.py``,
    start theirs explicitly)."""
    settings = load_settings()
    settings = settings.model_copy(update={"asr": settings.asr.model_copy(update={"spare_recognizers": 4})})
    if "AGENT_MONITOR_SERVER__WORKERS" not in os.environ:
        settings = settings.model_copy(update={"server": settings.server.model_copy(update={"workers": 0})})
    return settings


@pytest.fixture(scope="session")
def eval_data(base_settings: Settings) -> Path:
    path = base_settings.eval_data_dir
    if not (path / "README.md").is_file():
        pytest.fail(
            f"evaluation data not found at {path}; set AGENT_MONITOR_EVAL_DATA_DIR to the shared data"
        )
    return path


@pytest.fixture()
def settings(tmp_path: Path, base_settings: Settings) -> Settings:
    """Settings with a private data directory (database, recordings) per test."""
    return base_settings.model_copy(update={"data_dir": tmp_path / "data"})
