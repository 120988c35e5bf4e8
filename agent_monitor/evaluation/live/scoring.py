"""Live rule hits and agent warnings matched to the labelled agent turns, next to the text result.

A labelled agent turn is **flagged live** when a rule hit of an abusive category (whatever the
engine's abuse rules are: patterns or a trained classifier; see
:data:`qa_rules.packs.ABUSE_CATEGORIES`) on the agent leg, not withdrawn later, has its evidence
time (the end of its words on the call clock) within the turn: at or after the turn's start (less
``EARLY_S``) and at most ``LATE_S`` after the end of its speech, assigned to the latest such turn.
It is **flagged as text** when the same rule engine flags the turn's written text on the agent
leg (:func:`qa_rules.offline.evaluate.engine_flags`).

Latency of a flagged abusive turn: the arrival on ``/ws/events`` of the first agent warning of an
abusive rule for that turn, minus the moment the audio of (a) the offending word's end (the
warning's evidence time, from the recognised word times) and (b) the end of the turn's speech was
sent (the stream's start on the wall clock plus that call time divided by the speed), in wall
seconds.

A turn is **warned** when an abusive rule's agent warning with its evidence in the turn reached
``/ws/events``, whether or not the hit was withdrawn later: on a clean turn that is a warning the
agent saw for nothing, even if the final transcript took it back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent_monitor.evaluation.live.assemble import LiveCall, PlacedTurn
from agent_monitor.evaluation.live.runner import RunLog
from agent_monitor.model.audio import Leg
from agent_monitor.model.rules import HitStatus
from qa_rules.engine import RuleSet
from qa_rules.offline.evaluate import engine_flags
from qa_rules.packs import ABUSE_CATEGORIES

EARLY_S = 0.2
LATE_S = 1.0


@dataclass(frozen=True, slots=True)
class TurnResult:
    call_id: str
    turn: int
    label: int
    text: str
    heard: str
    text_flag: bool
    live_flag: bool
    live_rules: tuple[str, ...]
    condition: str
    line: str
    agent_voice: str
    latency_word_s: float | None
    latency_turn_s: float | None
    #: an abusive-rule warning reached the agent's screen during the turn (also one withdrawn later)
    warned: bool = False


def turn_at(turns: list[PlacedTurn], t: float) -> PlacedTurn | None:
    """The agent turn a call time belongs to (the latest one started, if ``t`` is not too late)."""
    started = [p for p in turns if p.start_s - EARLY_S <= t]
    if not started:
        return None
    turn = max(started, key=lambda p: p.start_s)
    return turn if t <= turn.speech_end_s + LATE_S else None


def standing_hits(
    events: list[tuple[float, dict[str, Any]]],
    wanted: Callable[[dict[str, Any]], bool],
    *,
    confirmed: bool,
    leg: Leg = Leg.AGENT,
) -> list[dict[str, Any]]:
    """The hits of ``leg`` (the agent's unless said) ``wanted`` picks whose last state (per
    utterance and rule) is not withdrawn, each with its event time ``t``; with ``confirmed``, only
    those confirmed at least once."""
    seen_confirmed: set[tuple[Any, str]] = set()
    last: dict[tuple[Any, str], tuple[str, dict[str, Any]]] = {}
    for _, e in events:
        if e["type"] != "rule_hit":
            continue
        hit = e["hit"]
        if hit.get("leg") != leg.value or not wanted(hit):
            continue
        key = (hit.get("utterance"), hit["rule"])
        last[key] = (e["status"], {**hit, "t": float(e["t"])})
        if e["status"] == HitStatus.CONFIRMED.value:
            seen_confirmed.add(key)
    return [
        hit
        for key, (status, hit) in last.items()
        if status != HitStatus.WITHDRAWN.value and (not confirmed or key in seen_confirmed)
    ]


def _live_hits(events: list[tuple[float, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The agent-leg abusive hits whose last state is not withdrawn."""
    return standing_hits(events, lambda h: h.get("category") in ABUSE_CATEGORIES, confirmed=False)


def heard_during(events: list[tuple[float, dict[str, Any]]], turn: PlacedTurn) -> str:
    finals = [
        e
        for _, e in events
        if e["type"] == "transcript"
        and e["final"]
        and e["leg"] == Leg.AGENT.value
        and e["end"] > turn.start_s - EARLY_S
        and e["start"] < turn.speech_end_s + LATE_S
    ]
    return " | ".join(e["text"] for e in sorted(finals, key=lambda e: e["start"]))


def score_call(call: LiveCall, log: RunLog, ruleset: RuleSet, speed: float = 1.0) -> list[TurnResult]:
    """One result per labelled agent turn of ``call`` streamed at ``speed`` times real time."""
    cid = call.dialogue.call_id
    events = log.events_of(cid)
    stream = log.streams.get(cid)
    agent_turns = [p for p in call.turns if p.turn.leg is Leg.AGENT]
    flagged: dict[int, list[str]] = {}
    for hit in _live_hits(events):
        owner = turn_at(agent_turns, hit["t"])
        if owner is not None:
            flagged.setdefault(owner.turn.index, []).append(hit["rule"])
    warned: dict[int, tuple[float, float]] = {}
    for arrival, e in events:
        if e["type"] != "agent_warning" or e["rule"] not in _abusive_rules(ruleset):
            continue
        owner = turn_at(agent_turns, float(e["t"]))
        if owner is not None and owner.turn.index not in warned:
            warned[owner.turn.index] = (arrival, float(e["t"]))
    out = []
    for p in agent_turns:
        if p.turn.label is None:
            continue
        lat_word = lat_turn = None
        if p.turn.index in warned and stream is not None and p.turn.index in flagged:
            arrival, t = warned[p.turn.index]
            lat_word = arrival - (stream.started_wall + t / speed)
            lat_turn = arrival - (stream.started_wall + p.speech_end_s / speed)
        out.append(
            TurnResult(
                call_id=cid,
                turn=p.turn.index,
                label=p.turn.label,
                text=p.turn.text,
                heard=heard_during(events, p),
                text_flag=engine_flags(ruleset, p.turn.text, "en"),
                live_flag=p.turn.index in flagged,
                live_rules=tuple(sorted(set(flagged.get(p.turn.index, ())))),
                condition=call.plan.condition,
                line=call.plan.line.name,
                agent_voice=p.voice.label,
                latency_word_s=lat_word,
                latency_turn_s=lat_turn,
                warned=p.turn.index in warned,
            )
        )
    return out


def _abusive_rules(ruleset: RuleSet) -> frozenset[str]:
    return frozenset(r.id for r in ruleset.rules if r.category in ABUSE_CATEGORIES)
