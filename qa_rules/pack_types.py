"""What a loaded rule pack is: :class:`RulePack`, its :class:`Rule` objects with their
:class:`CompiledPatterns`, and the vocabularies a rule is written in (categories, languages, kinds).
The pack file format is described in :mod:`qa_rules.packs`."""

from __future__ import annotations

from dataclasses import dataclass

from agent_monitor.model.rules import WRONG_PARTY, RuleLeg, Severity
from qa_rules.patterns import TermList
from qa_rules.timed_regex import TimedPattern

CATEGORIES = frozenset(
    {
        "profanity",
        "insult",
        "threat",
        "false_legal",
        "third_party",
        "public_shaming",
        "personal_data",
        "harassment",
        "disclosure",
        "recording_notice",
        "calling_hours",
        "call_frequency",
        "unfair_practice",
        "contempt",
        "abusive_tone",
        WRONG_PARTY,
        "unverified",
        "represented",
        "inconvenient",
        "disputed",
    }
)
#: abusive wording (the model rule defers to pattern rules of these categories); ``contempt`` is
#: belittling without a swear word, ``abusive_tone`` the trained classifier's finding
ABUSE_CATEGORIES = frozenset({"profanity", "insult", "threat", "contempt", "abusive_tone"})
LANGUAGES = frozenset({"en", "zh"})
KINDS = frozenset({"match", "must_say", "model", "verify_first"})


@dataclass(frozen=True, slots=True)
class CompiledPatterns:
    """A rule's patterns compiled for one language."""

    regex: TimedPattern | None
    unless: TimedPattern | None
    word_groups: tuple[str, ...]
    #: verify_first only: the wording that verifies the person (after it, ``regex`` is no hit)
    verified: TimedPattern | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """One validated rule of a pack."""

    id: str
    title: str
    category: str
    severity: Severity
    languages: tuple[str, ...]
    leg: RuleLeg
    kind: str
    citation: str
    compliant: str | None
    reason: str | None
    negation: bool
    reported: bool
    positive: tuple[str, ...]
    negative: tuple[str, ...]
    compiled: dict[str, CompiledPatterns]
    within_s: float | None
    #: must_say only: the title of a miss, with ``{window}`` for the window in seconds
    missed: str | None
    #: must_say only: the short line of the agent's checklist ("Recording notice")
    label: str | None
    model: str | None
    threshold: float | None
    pack: str
    source: str
    #: match only: a confirmed hit records this fact of the call (``CallFacts``) for rules on either leg
    fact: str | None = None
    #: match and verify_first: the rule's hits count only after this fact of the call was said
    after: str | None = None
    #: verify_first only: this fact of the call, said after the verifying wording, undoes it (the
    #: person refused to give the details asked for)
    refused: str | None = None


@dataclass(frozen=True, slots=True)
class RulePack:
    """One loaded pack file."""

    name: str
    version: str
    source: str
    rules: tuple[Rule, ...]
    lists: dict[str, TermList]
    allow: tuple[str, ...]
