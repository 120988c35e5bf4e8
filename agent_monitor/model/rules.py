"""Rule hits: what the rule engine reports about one utterance or one leg of a call.

A :class:`RuleHit` is one finding (a rule matched, or a must-say rule was not satisfied in time).
The streaming checker wraps hits in :class:`HitEvent` objects whose :class:`HitStatus` says whether
the hit was seen on a partial transcript (``provisional``), settled by the final transcript
(``confirmed``) or dropped by it (``withdrawn``). Times are call-clock seconds.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum

from agent_monitor.model.audio import Leg


class Severity(StrEnum):
    """How serious a hit is; ordered ``info < yellow < orange < red``."""

    INFO = "info"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.INFO: 0, Severity.YELLOW: 1, Severity.ORANGE: 2, Severity.RED: 3}


class RuleLeg(StrEnum):
    """Which leg a rule applies to."""

    AGENT = "agent"
    DEBTOR = "debtor"
    ANY = "any"

    def applies_to(self, leg: Leg | str) -> bool:
        return self is RuleLeg.ANY or self.value == str(leg)


class HitStatus(StrEnum):
    """Life cycle of a hit on a streaming transcript."""

    PROVISIONAL = "provisional"
    CONFIRMED = "confirmed"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class RuleHit:
    """One finding of one rule.

    ``span`` is the ``(start, end)`` character range of the evidence in the utterance text (end
    exclusive), or ``None`` for findings about an absence (a must-say rule whose window passed) or
    about call metadata. ``start``/``end`` are the call-clock times of the evidence words when the
    transcript carries word times, else ``None``. ``probability`` is a trained classifier's
    probability that the utterance is abusive, for classifier hits ("abusive tone"); ``None`` for
    pattern, must-say and metadata hits. ``after`` is the fact of the call the rule waits for (its
    pack's ``after:``, e.g. ``represented``): in a call such a hit stands only on words said after
    that fact; ``None`` for every other rule (not stored: a stored hit reads ``None``).
    """

    rule: str
    title: str
    category: str
    severity: Severity
    leg: Leg | None
    span: tuple[int, int] | None
    evidence: str
    reason: str
    citation: str
    compliant: str | None = None
    utterance: int | None = None
    start: float | None = None
    end: float | None = None
    probability: float | None = None
    after: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "title": self.title,
            "category": self.category,
            "severity": self.severity.value,
            "leg": None if self.leg is None else self.leg.value,
            "span": None if self.span is None else [self.span[0], self.span[1]],
            "evidence": self.evidence,
            "reason": self.reason,
            "citation": self.citation,
            "compliant": self.compliant,
            "utterance": self.utterance,
            "start": self.start,
            "end": self.end,
            "probability": self.probability,
            "after": self.after,
        }


@dataclass(frozen=True, slots=True)
class HitEvent:
    """A change in the state of a hit on one leg's streaming transcript."""

    status: HitStatus
    hit: RuleHit

    @property
    def key(self) -> tuple[int | None, str]:
        return (self.hit.utterance, self.hit.rule)


class DisclosureState(StrEnum):
    """Where a required disclosure (a must-say rule) stands in a call."""

    DUE = "due"
    SAID = "said"
    MISSED = "missed"


@dataclass(frozen=True, slots=True)
class RequiredDisclosure:
    """One line of the agent's checklist: a must-say rule of the call's pack by its short label
    ("Recording notice"), the wording to use, the call time by which it is due (seconds from the
    call start) and whether it was said."""

    rule: str
    label: str
    wording: str | None
    due_s: float
    state: DisclosureState

    def to_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "label": self.label,
            "wording": self.wording,
            "due_s": self.due_s,
            "state": self.state.value,
        }


def shown_to_agent(leg: Leg | None, severity: Severity, compliant: str | None) -> bool:
    """Does a finding go on the agent's panel: a warning (yellow or above) about the agent's own
    words or the call itself, or a cue from the debtor's words that comes with wording for the
    agent ("wrong number": say nothing about the debt)? The debtor's other words do not."""
    if leg is Leg.DEBTOR:
        return bool(compliant)
    return severity.rank >= Severity.YELLOW.rank


#: the category of a hit saying that the person who answered is not the debtor (a wrong number, a
#: relative answering): the call is then no telephone conversation with the debtor, which Regulation
#: F 1006.14(b)(2)(i)(B) counts its 7 days from (see ``storage.repo.calls.debtor_calls_since``)
WRONG_PARTY = "wrong_party"


class CallFacts:
    """What a call's rules have learned that rules on either leg read: a fact's name (a rule's
    ``fact``, e.g. ``wrong_party``) and the call seconds it was said at (the start of the words
    that said it). One per call, shared by its two legs' checkers, which run in worker threads."""

    def __init__(self, *, all_said_at: float | None = None) -> None:
        self._lock = threading.Lock()
        self._at: dict[str, list[float]] = {}
        #: a trial of a text (the admin's "try on text"): every fact counts as said at this second
        self._all_said_at = all_said_at

    def record(self, name: str, at: float) -> None:
        with self._lock:
            self._at.setdefault(name, []).append(at)

    def _times(self, name: str) -> list[float]:
        times = list(self._at.get(name, ()))
        return times if self._all_said_at is None else [self._all_said_at, *times]

    def since(self, name: str) -> float | None:
        """When ``name`` was first said (call seconds), or ``None`` if it was not."""
        with self._lock:
            times = self._times(name)
            return min(times) if times else None

    def said_between(self, name: str, start: float, end: float) -> bool:
        """Was ``name`` said at a call second from ``start`` to ``end`` (both included)?"""
        with self._lock:
            return any(start <= t <= end for t in self._times(name))
