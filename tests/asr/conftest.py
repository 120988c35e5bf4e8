"""Fixtures for the asr tests: real recordings from the shared data, the real Vosk model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_monitor.settings import Settings
from asr.streaming import RecognizerPool


@pytest.fixture(scope="session")
def call_opus(eval_data: Path) -> Path:
    return eval_data / "calls" / "spokenwoz" / "MUL1011.opus"


@pytest.fixture(scope="session")
def librispeech_flac(eval_data: Path) -> Path:
    return eval_data / "speech/en/librispeech/test-clean/1089/134686/1089-134686-0000.flac"


@pytest.fixture(scope="session")
def digits_8k(eval_data: Path) -> Path:
    return eval_data / "speech/en/fsdd_8k_digits/3_george_0.wav"


@pytest.fixture(scope="session")
def keyword_pool(base_settings: Settings) -> Iterator[RecognizerPool]:
    """The real installed model with the keyword second pass on (off by default), so the pool
    also loads the pass's grammar model."""
    asr = base_settings.asr.model_copy(update={"keyword_second_pass": True})
    p = RecognizerPool.from_settings(base_settings.model_copy(update={"asr": asr}))
    yield p
    p.close()


@pytest.fixture(scope="session")
def pool(base_settings: Settings) -> Iterator[RecognizerPool]:
    """The real installed model; fails (never skips) when it is missing."""
    p = RecognizerPool.from_settings(base_settings)
    yield p
    p.close()


@pytest.fixture(scope="session")
def librivox_wav(eval_data: Path) -> Path:
    """A read clip that starts on a breath and its first word ("unless") with no silence before."""
    return eval_data / "speech/en/librivox/sense_and_sensibility_01_austen_64kb-0890.wav"
