"""The rule set as the live pipeline sees it (:class:`agent_monitor.model.stages.CheckerFactory`),
and the admin pages' pack check (:class:`agent_monitor.model.stages.RulePacks`)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path

from agent_monitor.errors import AgentMonitorError
from agent_monitor.model.audio import Leg
from agent_monitor.model.calls import CallRecord
from agent_monitor.model.rules import RuleHit
from agent_monitor.model.stages import PackCheck
from agent_monitor.settings import RulesSettings, Settings
from qa_rules.engine import RuleSet, load_rules_from_settings
from qa_rules.keywords import key_terms
from qa_rules.metadata import call_frequency_of, calling_hours
from qa_rules.packs import load_pack, pack_files
from qa_rules.streaming import LegChecker


class LiveRules:
    """Per-leg streaming checkers, key terms and call-metadata checks of one loaded rule set."""

    def __init__(self, ruleset: RuleSet, settings: RulesSettings) -> None:
        self.ruleset = ruleset
        self.settings = settings
        self._key_terms: dict[tuple[str, Leg], tuple[str, ...]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> LiveRules:
        """Load the packs and models named by ``settings.rules`` (blocking)."""
        return cls(load_rules_from_settings(settings), settings.rules)

    def checker(self, lang: str, leg: Leg) -> LegChecker:
        return LegChecker(self.ruleset, lang, leg)

    def key_terms(self, lang: str, leg: Leg) -> tuple[str, ...]:
        """The agent leg's abusive single words (for the recognizer's second pass); cached."""
        if leg is not Leg.AGENT:
            return ()
        if (lang, leg) not in self._key_terms:
            self._key_terms[lang, leg] = key_terms(self.ruleset, lang, leg)
        return self._key_terms[lang, leg]

    def calling_hours(self, calls: Iterable[CallRecord]) -> list[RuleHit]:
        return calling_hours(calls, self.settings)

    def call_frequency(self, call_id: str, calls: Iterable[CallRecord]) -> list[RuleHit]:
        return call_frequency_of(call_id, calls, self.settings)


class PackChecker:
    """The configured rule packs (``rules.packs``), each loaded and checked on request."""

    def __init__(self, settings: RulesSettings) -> None:
        self.settings = settings

    def installed(self) -> list[PackCheck]:
        try:
            files = pack_files(self.settings.packs)
        except AgentMonitorError as exc:
            return [PackCheck(file=str(self.settings.packs), ok=False, error=str(exc))]
        return [check_pack(f, str(f)) for f in files]

    def lint(self, text: str) -> PackCheck:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "pack.yaml"
            path.write_text(text, encoding="utf-8")
            return check_pack(path, "pack.yaml")


def check_pack(path: Path, shown: str) -> PackCheck:
    """Load one pack file; errors name it as ``shown`` (never a temporary path)."""
    try:
        pack = load_pack(path)
    except AgentMonitorError as exc:
        return PackCheck(file=shown, ok=False, error=str(exc).replace(str(path), shown))
    return PackCheck(file=shown, ok=True, name=pack.name, version=pack.version, rules=len(pack.rules))
