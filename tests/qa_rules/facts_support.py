"""What the tests of a call's facts share: transcripts with word times, a checker per leg of one
call sharing its facts, and a pack file written from rule snippets."""

from __future__ import annotations

from pathlib import Path

from agent_monitor.model.audio import Leg
from agent_monitor.model.rules import CallFacts
from agent_monitor.model.transcript import Transcript, Word
from qa_rules.engine import RuleSet
from qa_rules.streaming import LegChecker


def said(leg: Leg, utt: int, start: float, text: str, final: bool = True, lang: str = "en") -> Transcript:
    """``text`` said on ``leg`` from ``start``, a word every 0.4 s (a final carries the words)."""
    words = tuple(Word(w, start + i * 0.4, start + i * 0.4 + 0.3) for i, w in enumerate(text.split()))
    return Transcript(leg, utt, start, start + 0.4 * len(words), text, final, words if final else (), lang)


def pair(ruleset: RuleSet, lang: str = "en") -> tuple[LegChecker, LegChecker]:
    """The agent and debtor legs' checkers of one call, sharing its facts."""
    facts = CallFacts()
    return LegChecker(ruleset, lang, Leg.AGENT, facts=facts), LegChecker(
        ruleset, lang, Leg.DEBTOR, facts=facts
    )


def pack_file(tmp_path: Path, *rules: str) -> Path:
    """A pack file ``t`` 1.0.0 holding the YAML rule snippets ``rules``."""
    path = tmp_path / "pack.yaml"
    path.write_text("pack: t\nversion: 1.0.0\nrules:" + "".join(rules), encoding="utf-8")
    return path
