"""The fixed dev/test splits: deterministic, disjoint, a collection call on one side only, and
the self-written training sentences never part of a test set."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_monitor.errors import DatasetError
from qa_rules.offline.datasets import DATASETS, load, load_self_written


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_parts_are_disjoint_and_complete(name: str, eval_data: Path) -> None:
    dev, test, every = (load(name, eval_data, p) for p in ("dev", "test", "all"))
    assert len(dev) + len(test) == len(every)
    assert {e.group for e in dev}.isdisjoint({e.group for e in test})
    assert any(e.positive for e in test) and any(e.positive for e in dev)
    assert [e.group for e in load(name, eval_data, "test")] == [e.group for e in test]  # deterministic


def test_collection_split_by_call_holds_abusive_calls_on_both_sides(eval_data: Path) -> None:
    dev, test = load("collection", eval_data, "dev"), load("collection", eval_data, "test")
    assert {e.group for e in dev if e.positive} and {e.group for e in test if e.positive}
    debtor_test = {e.group for e in load("collection-debtor", eval_data, "test")}
    assert debtor_test.isdisjoint({e.group for e in dev})  # both legs of a call on one side


def test_self_written_sentences_are_not_in_any_test_part(eval_data: Path) -> None:
    for lang in ("en", "zh"):
        own = {e.text for e in load_self_written(lang)}
        assert len(own) >= 80
        for name, ds in DATASETS.items():
            if ds.lang == lang:
                assert own.isdisjoint(e.text for e in load(name, eval_data, "test")), name


def test_bad_names_are_clear_errors(eval_data: Path, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="unknown dataset"):
        load("nope", eval_data)
    with pytest.raises(DatasetError, match="unknown part"):
        load("cold", eval_data, "train")
    with pytest.raises(DatasetError, match="not found"):
        load("cold", tmp_path / "missing")
