"""Fixtures for the rule engine tests: the shipped rule packs and model, loaded once."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from agent_monitor.settings import Settings
from qa_rules.engine import RuleSet, load_rules_from_settings

DIALOGUE = Path(__file__).parent / "data" / "collection_dialogue.tsv"


@pytest.fixture(scope="session")
def ruleset(base_settings: Settings) -> RuleSet:
    return load_rules_from_settings(base_settings)


@pytest.fixture(scope="session")
def dialogue() -> list[dict[str, str]]:
    """The hand-written, labeled collection-dialogue lines (lang, leg, label, text)."""
    lines = [line for line in DIALOGUE.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))
