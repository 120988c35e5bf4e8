"""The rule set as the live pipeline sees it (:class:`agent_monitor.model.stages.CheckerFactory`),
and the admin pages' pack check (:class:`agent_monitor.model.stages.RulePacks`)."""

from __future__ import annotations

import tempfile
from collections.abc import Collection, Iterable
from pathlib import Path

from agent_monitor.errors import AgentMonitorError, RulePackError
from agent_monitor.model.audio import Leg
from agent_monitor.model.calls import CallRecord
from agent_monitor.model.rules import CallFacts, RuleHit
from agent_monitor.model.stages import PackCheck, PackSelection, UploadedPack
from agent_monitor.settings import RulesSettings, Settings
from qa_rules.engine import RuleSet, load_rules_from_settings, rules_of_packs
from qa_rules.examples import failing_examples, failures_message, warn_failing_examples
from qa_rules.keywords import key_terms
from qa_rules.metadata import call_frequency_of, calling_hours
from qa_rules.packs import RulePack, load_pack, pack_files
from qa_rules.packtools import SHOWN_NAME, PackTrial
from qa_rules.streaming import LegChecker


class LiveRules:
    """Per-leg streaming checkers, key terms and call-metadata checks of one loaded rule set."""

    def __init__(self, ruleset: RuleSet, settings: RulesSettings) -> None:
        self.ruleset = ruleset
        self.settings = settings
        self._key_terms: dict[tuple[str, Leg], tuple[str, ...]] = {}

    @classmethod
    def from_settings(cls, settings: Settings, langs: Collection[str] | None = None) -> LiveRules:
        """Load the packs and models named by ``settings.rules`` (blocking); a rule whose own
        examples fail (the code or a model changed under an installed pack) is logged, one warning
        per example, and stays in use: the floor is rather monitored than not. ``langs``: check
        only the examples of these call languages (those the server transcribes: a language it
        only records never reaches the rules live, and the Chinese examples alone cost ~116 MiB,
        jieba's dictionary); default all. ``rules lint`` and the admin pages check every one."""
        ruleset = load_rules_from_settings(settings)
        warn_failing_examples(ruleset, langs=langs)
        return cls(ruleset, settings.rules)

    def checker(self, lang: str, leg: Leg, facts: CallFacts | None = None) -> LegChecker:
        return LegChecker(self.ruleset, lang, leg, self.settings.classifier_partial_min_words, facts)

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
    """The configured rule packs (``rules.packs``) for the admin pages: each loaded and checked on
    request, a pack's text linted, and a line of text tried on a pack (:class:`PackTrial`). Packs are
    named as the admin knows them (``en/abuse.yaml``), never by the server's absolute path."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings.rules
        self.trial = PackTrial(settings)

    def installed(self) -> list[PackCheck]:
        roots = list(self.settings.packs)
        try:
            files = pack_files(roots)
        except AgentMonitorError as exc:
            error = str(exc)
            for root in roots:
                error = error.replace(str(root), root.name)
            return [PackCheck(file=", ".join(p.name for p in roots), ok=False, error=error)]
        return [check_pack(f, shown_name(f, roots)) for f in files]

    def lint(self, text: str) -> PackCheck:
        """The pack alone, with the models it names, and its rules' own examples run."""
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / SHOWN_NAME
            path.write_text(text, encoding="utf-8")
            return check_pack(path, SHOWN_NAME, self.settings)

    def try_text(self, text: str, lang: str, pack_text: str | None = None) -> list[RuleHit]:
        return self.trial.try_text(text, lang, pack_text)

    def build(self, selection: PackSelection) -> LiveRules:
        """The installed files but the disabled ones, plus the uploaded versions (blocking)."""
        roots = list(self.settings.packs)
        files = [f for f in pack_files(roots) if shown_name(f, roots) not in selection.disabled_files]
        with tempfile.TemporaryDirectory() as tmp:
            shown = {str(f): shown_name(f, roots) for f in files}
            uploaded = [_written(Path(tmp), i, up, shown) for i, up in enumerate(selection.uploaded)]
            try:
                packs = [load_pack(f) for f in files] + [load_pack(path) for path in uploaded]
                ruleset = _ruleset(packs, self.settings)
            except RulePackError as exc:
                raise _named(exc, shown) from None
        # an upload whose examples failed alone was refused; here (a roll back, the server's start,
        # or with another pack whose allow list drops a hit) they only warn, as installed files do
        warn_failing_examples(ruleset, [r for p in packs[len(files) :] for r in p.rules], shown)
        return LiveRules(ruleset, self.settings)


def _written(folder: Path, index: int, pack: UploadedPack, shown: dict[str, str]) -> Path:
    """An uploaded pack's text as a file to load; ``shown`` learns how errors name it."""
    path = folder / f"upload-{index}.yaml"
    path.write_text(pack.text, encoding="utf-8")
    shown[str(path)] = f"{pack.name} v{pack.version}"
    return path


def _ruleset(packs: list[RulePack], settings: RulesSettings) -> RuleSet:
    return rules_of_packs(packs, model_dir=settings.model_dir, must_say_window_s=settings.must_say_window_s)


def _named(exc: RulePackError, shown: dict[str, str]) -> RulePackError:
    """``exc`` with every pack named as the admin knows it (never a server or temporary path)."""
    message = str(exc)
    for path, name in sorted(shown.items(), key=lambda item: -len(item[0])):
        message = message.replace(path, name)
    source, _, problem = message.partition(": ")
    return RulePackError(source, problem)


def shown_name(path: Path, roots: list[Path]) -> str:
    """A pack file relative to the configured folder it was found in, or its file name."""
    for root in roots:
        if root.is_dir() and path.is_relative_to(root):
            return path.relative_to(root).as_posix()
    return path.name


def check_pack(path: Path, shown: str, settings: RulesSettings | None = None) -> PackCheck:
    """Load one pack file; given ``settings`` (the model folder), also build its rule set alone
    with the models it names and run its rules' own examples (one failing: not ok, each named).
    ``file`` names it as ``shown`` and the error says what is wrong in it without naming it again
    (never a temporary or absolute server path)."""
    try:
        pack = load_pack(path)
        failed = [] if settings is None else failing_examples(_ruleset([pack], settings))
    except AgentMonitorError as exc:
        error = str(exc).removeprefix(f"{path}: ").replace(str(path), shown)
        return PackCheck(file=shown, ok=False, error=error)
    return PackCheck(
        file=shown,
        ok=not failed,
        name=pack.name,
        version=pack.version,
        rules=len(pack.rules),
        error=failures_message(failed) if failed else None,
    )
