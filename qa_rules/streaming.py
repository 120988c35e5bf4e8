"""Streaming evaluation of one leg: partial transcripts give provisional hits, the final settles them.

Contract (what the live pipeline relies on):

* ``update(t)`` with a partial transcript returns a ``provisional`` event for every hit not yet
  announced for that utterance. Hits are keyed by ``(rule, n)``, the n-th occurrence of the rule
  in the utterance, so a growing partial never announces the same hit twice.
* ``update(t)`` with the final transcript returns ``confirmed`` for every hit on the final text
  (whether or not it was announced provisionally; the confirmed hit carries the final span and
  word times) and ``withdrawn`` for every provisional hit the final text does not contain.
* After its final, an utterance is closed: later transcripts with that number are ignored.
* ``advance(t)`` moves the leg clock to ``t`` call seconds and returns ``confirmed`` hits for the
  must-say rules whose window (the first N seconds of the call) has passed without their wording;
  each fires at most once per call. A must-say rule is satisfied by a final transcript, or a
  partial, that starts inside the window and contains its wording.
* A verify_first rule's wording (account details) is a hit until the person is verified: a final
  transcript of this leg with the rule's verifying wording (the agent asked for the date of birth)
  verifies them for the rest of the call, unless the rule's ``refused`` fact is said after it (the
  person would not answer: then details are a hit again until the next verifying final); inside one
  transcript, wording after the verifying wording is no hit either.
* A rule with a ``fact`` records it in the call's :class:`CallFacts` (shared with the other leg's
  checker) when a final confirms its hit, from the start of its words; a rule ``after`` a fact is a hit
  only on words said after it (the debtor said "wrong number", then the agent named the balance).
  The legs run apart: a fact counts from when its leg's final was checked, so words checked before
  then are no hit (a later partial or the final of the same utterance is checked again).
* The abusive-tone classifier judges final transcripts and partials given at a VAD end of speech
  (``at_pause``: the speaker paused after them); with ``partial_min_words`` it also judges every
  partial of at least that many words (the words so far). A classifier hit on a partial is
  provisional like any other: confirmed or withdrawn by the final. Judging at the pause gives the
  agent the warning about one VAD hangover after the sentence rather than after
  ``asr.final_after_silence_s``; judging every partial gives it about one partial interval after
  the words that carry the tone, before the sentence ends, at the price of a warning withdrawn when
  the rest of the sentence (or the final's better words) no longer reads as abusive.
"""

from __future__ import annotations

from agent_monitor.model.audio import Leg
from agent_monitor.model.rules import (
    CallFacts,
    DisclosureState,
    HitEvent,
    HitStatus,
    RequiredDisclosure,
    RuleHit,
)
from agent_monitor.model.transcript import Transcript
from qa_rules.engine import RuleSet
from qa_rules.reasons import rule_reason

_CLOSED_KEEP = 4096


class LegChecker:
    """Incremental rule checking for one leg of one call."""

    def __init__(
        self,
        ruleset: RuleSet,
        lang: str,
        leg: Leg,
        partial_min_words: int = 0,
        facts: CallFacts | None = None,
    ) -> None:
        self.lang = lang
        self.leg = leg
        self.partial_min_words = partial_min_words
        self._matcher = ruleset.matcher(lang, leg)
        self._default_window = ruleset.must_say_window_s
        self._open: dict[int, dict[tuple[str, int], RuleHit]] = {}
        self._closed: set[int] = set()
        self._closed_order: list[int] = []
        self._satisfied: set[str] = set()
        self._missed: set[str] = set()
        #: verify_first rule -> the starts of the final transcripts that carried its verifying wording
        self._verified_at: dict[str, list[float]] = {}
        #: what the call's rules learned, shared with the other leg's checker
        self.facts = facts if facts is not None else CallFacts()
        rules = self._matcher.match_rules + self._matcher.verify_rules
        self._after = {r.id: r.after for r in rules if r.after}
        self._fact = {r.id: r.fact for r in rules if r.fact}
        self._refused = {r.id: r.refused for r in self._matcher.verify_rules if r.refused}
        self.clock = 0.0

    def window(self, rule_id: str) -> float:
        """The must-say window of a rule, in seconds from the start of the call."""
        for rule in self._matcher.must_say_rules:
            if rule.id == rule_id:
                return rule.within_s or self._default_window
        raise KeyError(rule_id)

    def update(self, transcript: Transcript) -> list[HitEvent]:
        """Check one partial or final transcript of this leg; returns the hit events it causes."""
        if transcript.leg != self.leg:
            raise ValueError(f"transcript of leg {transcript.leg} given to the {self.leg} checker")
        utt = transcript.utterance
        if utt in self._closed or transcript.wordless:
            # a wordless final settles nothing: its number stays open for the leg's next utterance
            return []
        self._note_must_say(transcript)
        hits = self._matcher.check(
            transcript.text,
            utterance=utt,
            words=transcript.words,
            models=self._judge_tone(transcript),
        )
        if self._verified_at:
            hits = [h for h in hits if not self._verified_before(h, transcript)]
        if self._after:
            hits = [h for h in hits if self._after_fact(h, transcript)]
        if transcript.final:
            for rule in self._matcher.verified(transcript.text):
                self._verified_at.setdefault(rule.id, []).append(transcript.start)
            for hit in hits:
                if hit.rule in self._fact:
                    self.facts.record(
                        self._fact[hit.rule], transcript.start if hit.start is None else hit.start
                    )
        keyed = _keyed(hits)
        announced = self._open.setdefault(utt, {})
        events: list[HitEvent] = []
        if not transcript.final:
            for key, hit in keyed.items():
                if key not in announced:
                    announced[key] = hit
                    events.append(HitEvent(HitStatus.PROVISIONAL, hit))
        else:
            for hit in keyed.values():
                events.append(HitEvent(HitStatus.CONFIRMED, hit))
            for key, hit in announced.items():
                if key not in keyed:
                    events.append(HitEvent(HitStatus.WITHDRAWN, hit))
            del self._open[utt]
            self._close(utt)
        events.extend(self.advance(max(self.clock, transcript.end)))
        return events

    def _verified_before(self, hit: RuleHit, transcript: Transcript) -> bool:
        """Was the person verified for ``hit``'s verify_first rule before its words: a verifying
        final transcript earlier in the call, not undone by the rule's ``refused`` fact since?"""
        asked = self._verified_at.get(hit.rule)
        if not asked:
            return False
        at = transcript.start if hit.start is None else hit.start
        refused = self._refused.get(hit.rule)
        return any(v <= at and not (refused and self.facts.said_between(refused, v, at)) for v in asked)

    def _after_fact(self, hit: RuleHit, transcript: Transcript) -> bool:
        """Is ``hit`` of a rule without ``after``, or said after its fact?"""
        fact = self._after.get(hit.rule)
        if fact is None:
            return True
        since = self.facts.since(fact)
        return since is not None and since <= (transcript.start if hit.start is None else hit.start)

    def _judge_tone(self, transcript: Transcript) -> bool:
        """Does the classifier judge this transcript (see the module documentation)?"""
        if transcript.final or transcript.at_pause:
            return True
        words = len(transcript.words) or len(transcript.text.split())
        return 0 < self.partial_min_words <= words

    def advance(self, t: float) -> list[HitEvent]:
        """Move the leg clock to ``t``; report must-say rules whose window has passed unmet."""
        self.clock = max(self.clock, t)
        events: list[HitEvent] = []
        for rule in self._matcher.must_say_rules:
            if rule.id in self._satisfied or rule.id in self._missed:
                continue
            window = rule.within_s or self._default_window
            if self.clock >= window:
                self._missed.add(rule.id)
                title = (rule.missed or rule.title).format(window=f"{window:g}")
                hit = RuleHit(
                    rule=rule.id,
                    title=title,
                    category=rule.category,
                    severity=rule.severity,
                    leg=self.leg,
                    span=None,
                    evidence="",
                    reason=rule_reason(rule, self.lang),
                    citation=rule.citation,
                    compliant=rule.compliant,
                    utterance=None,
                    start=window,
                    end=window,
                )
                events.append(HitEvent(HitStatus.CONFIRMED, hit))
        return events

    @property
    def pending_must_say(self) -> tuple[str, ...]:
        """Must-say rules neither satisfied nor reported missing yet."""
        return tuple(
            r.id
            for r in self._matcher.must_say_rules
            if r.id not in self._satisfied and r.id not in self._missed
        )

    def checklist(self) -> tuple[RequiredDisclosure, ...]:
        """The must-say rules of this leg as the agent's checklist: said, missed or still due."""
        out = []
        for rule in self._matcher.must_say_rules:
            if rule.id in self._satisfied:
                state = DisclosureState.SAID
            elif rule.id in self._missed:
                state = DisclosureState.MISSED
            else:
                state = DisclosureState.DUE
            due = rule.within_s or self._default_window
            out.append(RequiredDisclosure(rule.id, rule.label or rule.title, rule.compliant, due, state))
        return tuple(out)

    def _note_must_say(self, transcript: Transcript) -> None:
        pending = [r for r in self._matcher.must_say_rules if r.id not in self._satisfied | self._missed]
        if not pending:
            return
        in_window = [r for r in pending if transcript.start < (r.within_s or self._default_window)]
        if in_window:
            met = {r.id for r in self._matcher.satisfied(transcript.text)}
            self._satisfied.update(r.id for r in in_window if r.id in met)

    def _close(self, utt: int) -> None:
        self._closed.add(utt)
        self._closed_order.append(utt)
        if len(self._closed_order) > _CLOSED_KEEP:
            old = self._closed_order.pop(0)
            self._closed.discard(old)


def _keyed(hits: list[RuleHit]) -> dict[tuple[str, int], RuleHit]:
    out: dict[tuple[str, int], RuleHit] = {}
    counts: dict[str, int] = {}
    for hit in hits:
        n = counts.get(hit.rule, 0)
        counts[hit.rule] = n + 1
        out[(hit.rule, n)] = hit
    return out
