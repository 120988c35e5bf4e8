"""Real noise for the simulated lines: the SpokenWOZ call's hiss, babble of other speakers, mixing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from agent_monitor.audio.noise import NoiseBank, active_power, mix_at_snr
from agent_monitor.errors import ConfigError


@pytest.fixture(scope="module")
def bank(eval_data: Path) -> NoiseBank:
    return NoiseBank.from_data_dir(eval_data)


def _db(power: float) -> float:
    return 10.0 * float(np.log10(power))


def test_the_bank_is_built_from_the_call_and_other_speakers(bank: NoiseBank, eval_data: Path) -> None:
    call = eval_data / "calls" / "spokenwoz" / "MUL1011.opus"
    assert bank.sources[0] == str(call) and len(bank.sources) >= 4
    x, rate = sf.read(str(call), dtype="float32", always_2d=True)
    speech_db = _db(active_power(x[:, 0], rate))
    # the hiss between the turns lies far below the call's speech; babble is speech-like and loud
    assert _db(float(np.mean(np.square(bank.line, dtype=np.float64)))) < speech_db - 25
    assert len(bank.babble) == 30 * bank.rate and np.isfinite(bank.babble).all()


def test_mix_at_snr_puts_real_noise_at_the_stated_ratio(bank: NoiseBank, eval_data: Path) -> None:
    path = sorted((eval_data / "speech/en/librispeech").rglob("*.flac"))[0]
    speech, rate = sf.read(str(path), dtype="float32")
    rng = np.random.default_rng(1)
    for kind in ("line", "babble"):
        noise = bank.sample(kind, len(speech), rate, rng)
        for snr in (20.0, 5.0):
            mixed = mix_at_snr(speech, noise, snr, rate)
            added = _db(float(np.mean(np.square(mixed - speech, dtype=np.float64))))
            assert _db(active_power(speech, rate)) - added == pytest.approx(snr, abs=0.05), (kind, snr)


def test_samples_follow_the_generator_and_loop_past_the_source(bank: NoiseBank) -> None:
    n = len(bank.babble) * 2 + 123
    a = bank.sample("babble", n, bank.rate, np.random.default_rng(7))
    b = bank.sample("babble", n, bank.rate, np.random.default_rng(7))
    assert len(a) == n and np.array_equal(a, b)
    assert len(bank.sample("line", 8000, 8000, np.random.default_rng(7))) == 8000


def test_unknown_noise_and_missing_data_are_clear_errors(bank: NoiseBank, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown noise 'hum'"):
        bank.sample("hum", 10, 16000, np.random.default_rng(0))
    with pytest.raises(ConfigError, match="MUL1011"):
        NoiseBank.from_data_dir(tmp_path)
