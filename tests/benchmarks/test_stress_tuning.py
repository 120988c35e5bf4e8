"""The variant names of ``benchmarks/stress_tuning.py``: what each option sets in the training
configuration, and a clear exit for a name it does not know."""

from __future__ import annotations

import pytest

from benchmarks.stress_tuning import config_of
from emotion.offline.training import TrainConfig, scorer_features


def test_a_variant_sets_front_ends_penalties_and_training_lines() -> None:
    cfg = config_of("wide/tel+alp100+rlp30+aug8")
    assert cfg.absolute_features == scorer_features("wide", level=False)
    assert cfg.relative_features == scorer_features("tel", level=True)
    assert (cfg.line_penalty_absolute, cfg.line_penalty_relative) == (100.0, 30.0)
    assert cfg.augment == 8
    assert cfg.train_conditions == ("clean", *(f"aug{k}" for k in range(8)))


def test_without_options_a_variant_trains_like_model_v5() -> None:
    cfg = config_of("wide/tel")
    assert cfg.augment == TrainConfig().augment
    assert (cfg.line_penalty_absolute, cfg.line_penalty_relative) == (0.0, 0.0)


@pytest.mark.parametrize("name", ["wide/tel+augX", "narrow/tel", "wide/tel+foo", "wide/tel+alp1e3"])
def test_an_unknown_variant_exits_with_its_name(name: str) -> None:
    with pytest.raises(SystemExit, match="unknown variant"):
        config_of(name)
