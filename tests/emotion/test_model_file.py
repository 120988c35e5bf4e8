"""The stress model file: saving over the one the server loads leaves it whole or untouched.

A full disk is injected at the flush to disk (it cannot be produced on demand here)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from emotion.model import StressModel, load_model


def _disk_full(fd: int) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_stress_model_saved_on_a_full_disk_leaves_the_loadable_one(
    model: StressModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server loads ``stress.model_file`` at start; ``stress train`` writing over it used to
    leave a cut file on a full disk or an interrupt, and the next start failed on it."""
    path = tmp_path / "stress-model.json"
    model.save(path)
    before = path.read_bytes()
    monkeypatch.setattr(os, "fsync", _disk_full)
    with pytest.raises(OSError):
        model.save(path)
    assert path.read_bytes() == before
    assert load_model(path).to_json() == model.to_json()
