"""The verify_first rules live: account details given before the person was verified, per call.

``text/collection/prodigal/privacy_labels.csv`` marks a call 1 when the agent shared account
details (a balance, an account number) before the person on the line was verified
(:mod:`qa_rules.offline.verify_first`, ``agent-monitor eval verify``). A call of the live run is
**flagged live** when a verify_first rule's hit on the agent leg reached ``/ws/events`` confirmed
and its last state is not withdrawn (anywhere in the call: the label is per call). It is
**flagged as text** when the same rules flag its agent turns' text checked as live
(:func:`qa_rules.offline.verify_first.flagged`). Both are counted against the label on the calls of
the run that carry one.

``--privacy-part dev|test|all`` runs the calls of the privacy labels' part instead of the
profanity split: the calls labelled early disclosure first, then the others, each group in a
seeded order (so ``--calls N`` keeps the positives).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from agent_monitor.evaluation.live.assemble import LiveCall
from agent_monitor.evaluation.live.dialogues import Dialogue
from agent_monitor.evaluation.live.runner import RunLog
from agent_monitor.evaluation.live.scoring import heard_during, standing_hits
from agent_monitor.model.audio import Leg
from qa_rules.engine import RuleSet
from qa_rules.offline.verify_first import PRODIGAL, LabelledCall, flagged_turn, load_calls, verify_rule_ids

PrivacyPart = Literal["dev", "test", "all"]


@dataclass(frozen=True, slots=True)
class VerifyCall:
    """One labelled call of the run: its label, the text and live flags, and what was heard.

    ``text_turn`` is the agent turn the text flag is on (``""`` when not flagged as text),
    ``heard_at_text_turn`` the agent leg's final transcripts over that turn's speech;
    ``live_evidence`` the live hits' evidence with what was heard around them; ``debtor_hits``
    the debtor leg's confirmed live hits (a refusal or a wrong party read there decides whether
    the agent's request counts)."""

    call_id: str
    disclosed_early: bool
    text_flag: bool
    live_flag: bool
    text_turn: str
    heard_at_text_turn: str
    live_evidence: tuple[str, ...]
    condition: str
    agent_voice: str
    debtor_hits: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VerifySummary:
    """Labelled-early-disclosure calls flagged, and clean calls falsely flagged, live and as text."""

    positives: int
    text_hits: int
    live_hits: int
    clean: int
    text_false: int
    live_false: int


def privacy_labels(data_dir: Path) -> dict[str, LabelledCall]:
    """The privacy-labelled calls by id; empty when the data has no privacy labels."""
    if not (data_dir / PRODIGAL / "privacy_labels.csv").is_file():
        return {}
    return {c.call_id: c for c in load_calls(data_dir, "all")}


def choose_privacy(
    dialogues: list[Dialogue], labelled: dict[str, LabelledCall], part: PrivacyPart, n: int | None, seed: int
) -> list[Dialogue]:
    """The dialogues of the privacy labels' ``part``: labelled early disclosure first, then the
    others, each group in a seeded order; the first ``n`` of them."""
    rng = random.Random(seed)
    mine = [d for d in dialogues if d.call_id in labelled and part in ("all", labelled[d.call_id].part)]
    positive = [d for d in mine if labelled[d.call_id].disclosed_early]
    clean = [d for d in mine if not labelled[d.call_id].disclosed_early]
    rng.shuffle(positive)
    rng.shuffle(clean)
    ordered = positive + clean
    return ordered if n is None else ordered[:n]


def live_verify_hits(
    events: list[tuple[float, dict[str, Any]]], rules: frozenset[str]
) -> list[dict[str, Any]]:
    """The verify_first hits on the agent leg that were confirmed and are not withdrawn after."""
    return standing_hits(events, lambda h: h.get("rule") in rules, confirmed=True)


def _evidence(events: list[tuple[float, dict[str, Any]]], hit: dict[str, Any]) -> str:
    """A live hit's rule and evidence, with the final transcript of its leg that it is in."""
    t = float(hit["end"] if hit.get("end") is not None else hit["t"])
    finals = [
        e["text"]
        for _, e in events
        if e["type"] == "transcript"
        and e["final"]
        and e["leg"] == hit.get("leg", Leg.AGENT.value)
        and e["start"] <= t <= e["end"]
    ]
    around = f" in {' | '.join(finals)!r}" if finals else ""
    return f"{hit['rule']} {hit.get('evidence', '')!r} at {t:.1f} s{around}"


def score_verify_call(call: LiveCall, labelled: LabelledCall, log: RunLog, ruleset: RuleSet) -> VerifyCall:
    """``call`` scored against its privacy label, live and as text."""
    events = log.events_of(call.dialogue.call_id)
    agent = [p for p in call.turns if p.turn.leg is Leg.AGENT]
    hits = sorted(live_verify_hits(events, verify_rule_ids(ruleset)), key=lambda h: float(h["t"]))
    at = flagged_turn(ruleset, labelled)
    placed = agent[at] if at is not None and at < len(agent) else None
    return VerifyCall(
        call_id=labelled.call_id,
        disclosed_early=labelled.disclosed_early,
        text_flag=at is not None,
        live_flag=bool(hits),
        text_turn=labelled.agent_turns[at].text if at is not None else "",
        heard_at_text_turn=heard_during(events, placed) if placed is not None else "",
        live_evidence=tuple(_evidence(events, h) for h in hits),
        condition=call.plan.condition,
        agent_voice=call.plan.agent_voice.label,
        debtor_hits=debtor_hits(events),
    )


def debtor_hits(events: list[tuple[float, dict[str, Any]]]) -> tuple[str, ...]:
    """The debtor leg's confirmed live hits not withdrawn, with the debtor's final each is in."""
    hits = standing_hits(events, lambda h: True, confirmed=True, leg=Leg.DEBTOR)
    return tuple(_evidence(events, h) for h in sorted(hits, key=lambda h: float(h["t"])))


def score_verify(
    calls: list[LiveCall], labelled: dict[str, LabelledCall], log: RunLog, ruleset: RuleSet
) -> list[VerifyCall]:
    """Every privacy-labelled call of the run, scored."""
    return [
        score_verify_call(c, labelled[c.dialogue.call_id], log, ruleset)
        for c in calls
        if c.dialogue.call_id in labelled
    ]


def summarize_verify(results: list[VerifyCall]) -> VerifySummary:
    pos = [r for r in results if r.disclosed_early]
    clean = [r for r in results if not r.disclosed_early]
    return VerifySummary(
        positives=len(pos),
        text_hits=sum(r.text_flag for r in pos),
        live_hits=sum(r.live_flag for r in pos),
        clean=len(clean),
        text_false=sum(r.text_flag for r in clean),
        live_false=sum(r.live_flag for r in clean),
    )


def format_verify_live(results: list[VerifyCall]) -> list[str]:
    """The call-level table, then each call where live and text or label disagree."""
    if not results:
        return ["verify_first (privacy labels): no privacy-labelled call in this run"]
    s = summarize_verify(results)
    lines = [
        f"verify_first rules per call against the privacy labels ({len(results)} labelled calls of the run):",
        "",
        "| calls | labelled early disclosure | flagged as text | flagged live | clean calls "
        "| text false alarms | live false alarms |",
        "|---|---|---|---|---|---|---|",
        f"| all | {s.positives} | {s.text_hits}/{s.positives} | {s.live_hits}/{s.positives} | {s.clean} "
        f"| {s.text_false}/{s.clean} | {s.live_false}/{s.clean} |",
        "",
    ]
    for r in results:
        if r.live_flag == r.disclosed_early and r.text_flag == r.disclosed_early:
            continue
        what = "labelled early disclosure" if r.disclosed_early else "clean"
        lines.append(
            f"- {r.call_id[:8]} ({what}; {r.condition}, agent {r.agent_voice}): "
            f"text {_flag(r.text_flag)}, live {_flag(r.live_flag)}"
        )
        if r.text_flag:
            lines.append(f"  text: {r.text_turn!r}; heard: {r.heard_at_text_turn!r}")
        lines += [f"  live: {e}" for e in r.live_evidence]
        lines.append(f"  debtor leg live: {'; '.join(r.debtor_hits) or 'no rule hit'}")
    return lines


def _flag(flag: bool) -> str:
    return "flagged" if flag else "not flagged"
