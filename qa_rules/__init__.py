"""The rule engine for abusive wording and collection compliance; rule packs are data files.

Interface for the live pipeline (all times are call-clock seconds)::

    from qa_rules import load_rules_from_settings, load_rules, RuleSet, LegChecker, LiveRules
    from qa_rules import calling_hours, call_frequency

    ruleset: RuleSet = load_rules_from_settings(settings)          # settings.rules.packs etc.
    ruleset = load_rules([Path("qa_rules/packs")], model_dir=Path("models/abuse"),
                         must_say_window_s=30.0)                     # or explicit paths
    # -> raises agent_monitor.errors.RulePackError naming file, rule and field

    checker = LegChecker(ruleset, "en", Leg.AGENT)                  # one per leg per call
    events: list[HitEvent] = checker.update(transcript)             # Transcript, partial or final
    events = checker.advance(t)                                     # leg clock; must-say deadlines

    hits: list[RuleHit] = ruleset.check(text, "zh", Leg.AGENT)      # one-shot, no streaming state

    calling_hours(calls: Iterable[CallRecord], settings.rules) -> list[RuleHit]
    call_frequency(calls: Iterable[CallRecord], settings.rules) -> list[RuleHit]

The live pipeline receives it as :class:`LiveRules` (``LiveRules.from_settings(settings)``, the
:class:`agent_monitor.model.stages.CheckerFactory` built by :mod:`agent_monitor.compose`), and the
admin pages the pack check :class:`PackChecker` (:class:`~agent_monitor.model.stages.RulePacks`).

``update`` returns ``HitEvent(status, hit)``: ``provisional`` for a hit first seen on a partial,
``confirmed`` or ``withdrawn`` when the final for that utterance arrives; a hit is announced at most
once per status and utterance, and an utterance is closed after its final. ``advance(t)`` returns
``confirmed`` hits (``span=None``) for must-say rules (identity, mini-Miranda, recording notice)
whose window, the first ``within_s`` (default ``settings.rules.must_say_window_s``) seconds of the
call, passed without their wording. ``update`` also advances the clock to the transcript's end.

Types: :class:`agent_monitor.model.rules.RuleHit`, ``HitEvent``, ``HitStatus``, ``Severity``;
:class:`agent_monitor.model.calls.CallRecord`. jieba is loaded on first use of a Chinese rule that
needs it (once per process), never at import.
"""

from qa_rules.engine import Matcher, RuleSet, load_rules, load_rules_from_settings
from qa_rules.live import LiveRules, PackChecker
from qa_rules.metadata import call_frequency, call_frequency_of, calling_hours
from qa_rules.packs import ABUSE_CATEGORIES, CATEGORIES, Rule, RulePack, load_pack
from qa_rules.streaming import LegChecker

__all__ = [
    "ABUSE_CATEGORIES",
    "CATEGORIES",
    "LegChecker",
    "LiveRules",
    "Matcher",
    "PackChecker",
    "Rule",
    "RulePack",
    "RuleSet",
    "call_frequency",
    "call_frequency_of",
    "calling_hours",
    "load_pack",
    "load_rules",
    "load_rules_from_settings",
]
