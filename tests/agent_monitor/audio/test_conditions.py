"""The telephone condition grid on a real recording: level, codecs, real noise, packet loss."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from agent_monitor.audio.conditions import CONDITIONS, parse_conditions
from agent_monitor.audio.noise import NoiseBank, active_power
from agent_monitor.errors import ConfigError


def _db(x: np.ndarray, rate: int) -> float:
    return 10 * float(np.log10(active_power(x, rate)))


@pytest.fixture(scope="module")
def clip(eval_data: Path) -> tuple[np.ndarray, int]:
    path = sorted((eval_data / "speech/en/librispeech").rglob("*.flac"))[0]
    x, rate = sf.read(str(path), dtype="float32")
    return x, rate


@pytest.fixture(scope="module")
def bank(eval_data: Path) -> NoiseBank:
    return NoiseBank.from_data_dir(eval_data)


def test_every_condition_keeps_length_and_sets_its_rate(
    clip: tuple[np.ndarray, int], bank: NoiseBank
) -> None:
    x, rate = clip
    for cond in CONDITIONS.values():
        y, out_rate = cond.apply(x, rate, noise=bank, seed="t")
        assert out_rate == (8000 if cond.codec else rate), cond.name
        assert abs(len(y) / out_rate - len(x) / rate) < 0.01, cond.name
        assert y.dtype == np.float32 and np.isfinite(y).all(), cond.name


def test_gain_moves_the_level_by_exactly_its_decibels(clip: tuple[np.ndarray, int]) -> None:
    x, rate = clip
    clean = _db(x, rate)
    assert _db(CONDITIONS["gain-20"].apply(x, rate)[0], rate) == pytest.approx(clean - 20, abs=0.1)
    assert _db(CONDITIONS["gain-40"].apply(x, rate)[0], rate) == pytest.approx(clean - 40, abs=0.1)


def test_noise_lands_at_the_stated_snr(clip: tuple[np.ndarray, int], bank: NoiseBank) -> None:
    x, rate = clip
    for name in ("line-snr10", "babble-snr10"):
        y, _ = CONDITIONS[name].apply(x, rate, noise=bank, seed="t")
        noise = y - x
        snr = _db(x, rate) - 10 * np.log10(np.mean(np.square(noise, dtype=np.float64)))
        assert snr == pytest.approx(10, abs=0.5), name


def test_codecs_change_the_signal_but_keep_the_speech(clip: tuple[np.ndarray, int]) -> None:
    x, rate = clip
    ref = CONDITIONS["mulaw"].apply(x, rate)[0]
    for name in ("alaw", "gsm", "amr", "opus"):
        y, _ = CONDITIONS[name].apply(x, rate)
        assert not np.array_equal(y, ref), name
        assert abs(_db(y, 8000) - _db(ref, 8000)) < 3, name  # same level, different coding


def test_packet_loss_zeroes_about_two_percent_of_20ms_packets(clip: tuple[np.ndarray, int]) -> None:
    x, rate = clip
    y, _ = CONDITIONS["loss2"].apply(x, rate, seed="t")
    packets = y[: len(y) // 160 * 160].reshape(-1, 160)
    silent = float(np.mean(np.all(packets == 0, axis=1)))
    assert 0.005 < silent < 0.05
    again, _ = CONDITIONS["loss2"].apply(x, rate, seed="t")
    assert np.array_equal(y, again)  # deterministic per seed


def test_parse_conditions() -> None:
    assert [c.name for c in parse_conditions(None)] == ["clean"]
    assert len(parse_conditions("all")) == len(CONDITIONS)
    assert [c.name for c in parse_conditions("gain-40, mulaw")] == ["gain-40", "mulaw"]
    with pytest.raises(ConfigError, match="unknown condition"):
        parse_conditions("hiss")
    with pytest.raises(ConfigError, match="0 < N <= 60"):
        parse_conditions("gain-99")


def test_composed_conditions() -> None:
    """Lines off the grid: parts joined by ``+``, each field set once; loss is on mu-law by default."""
    gsm, quiet, lossy, noisy = parse_conditions("gsm+gain-30, gain-10, loss5, mulaw-20+line-snr15")
    assert (gsm.codec, gsm.gain_db, gsm.noise) == ("gsm", -30.0, None)
    assert (quiet.codec, quiet.gain_db) == (None, -10.0)
    assert (lossy.codec, lossy.loss) == ("mulaw", pytest.approx(0.05))
    assert (noisy.codec, noisy.gain_db, noisy.noise, noisy.snr_db) == ("mulaw", -20.0, "line", 15.0)
    assert parse_conditions("amr+loss2")[0].codec == "amr"
    assert parse_conditions("loss2")[0] == CONDITIONS["loss2"]  # grid names keep their meaning
    for bad, match in [
        ("gsm+opus", "sets the codec twice"),
        ("gain-20+mulaw-20", "sets the gain twice"),
        ("babble-snr10+line-snr20", "sets the noise twice"),
        ("clean+gsm", "part 'clean'"),
        ("loss0", "0 < N < 100"),
        ("gsm+", "part ''"),
    ]:
        with pytest.raises(ConfigError, match=match):
            parse_conditions(bad)


def test_a_composed_line_is_the_grid_line_it_spells(clip: tuple[np.ndarray, int], bank: NoiseBank) -> None:
    """``mulaw+gain-20`` codes the clip exactly as ``mulaw-20`` does (same samples), and
    ``gsm+gain-20`` is the GSM line 20 dB down: 8 kHz, 20 dB below ``gsm``'s level."""
    x, rate = clip
    composed = parse_conditions("mulaw+gain-20")[0]
    grid = CONDITIONS["mulaw-20"]
    assert np.array_equal(composed.apply(x, rate, seed="t")[0], grid.apply(x, rate, seed="t")[0])
    y, line_rate = parse_conditions("gsm+gain-20")[0].apply(x, rate)
    ref, _ = CONDITIONS["gsm"].apply(x, rate)
    assert line_rate == 8000
    assert _db(y, 8000) == pytest.approx(_db(ref, 8000) - 20.0, abs=1.0)
    noisy, _ = parse_conditions("opus+babble-snr15+gain-10")[0].apply(x, rate, noise=bank, seed="t")
    assert noisy.shape == ref.shape


def test_one_line_under_two_names_is_one_draw(clip: tuple[np.ndarray, int], bank: NoiseBank) -> None:
    """The random draws (noise segment, lost packets) follow the line, not the name it was given:
    a composed name that spells a grid line draws as the grid line, and the order of the parts does
    not matter; another line draws otherwise."""
    x, rate = clip

    def heard(name: str) -> np.ndarray:
        return parse_conditions(name)[0].apply(x, rate, noise=bank, seed="t")[0]

    assert parse_conditions("mulaw+loss2")[0].line == "loss2"
    assert np.array_equal(heard("mulaw+loss2"), heard("loss2"))
    assert np.array_equal(heard("line-snr10+gain-5+opus"), heard("opus+gain-5+line-snr10"))
    assert parse_conditions("line-snr10+gain-5+opus")[0].line == "opus+gain-5+line-snr10"
    assert not np.array_equal(heard("loss2"), heard("loss3")[: len(heard("loss2"))])
    assert [c.line for c in CONDITIONS.values()] == list(CONDITIONS)


def test_noise_condition_without_a_bank_is_a_clear_error(clip: tuple[np.ndarray, int]) -> None:
    x, rate = clip
    with pytest.raises(ConfigError, match="noise bank"):
        CONDITIONS["line-snr20"].apply(x, rate)
