"""``agent-monitor eval verify``: the verify_first rules (account details given before the person
was verified, US-3P-3 of ``shared/reference``) on the collection dialogues' privacy labels.

``text/collection/prodigal/privacy_labels.csv`` marks a call 1 when the agent shared account
details before the caller's identity was verified. Each call's agent turns go in order, as final
transcripts with the dialogue's own times, through the agent leg's streaming checker
(:class:`qa_rules.streaming.LegChecker`, as on a live call); a call is flagged when a verify_first
rule confirms a hit in it. The calls are dealt to ``dev`` and ``test`` by hash within each label
(:data:`SPLIT_SEED`): the patterns were written looking at ``dev`` only; ``test`` is the figure.
The set is evaluation data: read here, never copied into the project.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from agent_monitor.errors import DatasetError
from agent_monitor.model.audio import Leg
from agent_monitor.model.rules import HitStatus
from agent_monitor.model.transcript import Transcript
from qa_rules.engine import RuleSet
from qa_rules.streaming import LegChecker

SPLIT_SEED = "agent-monitor-privacy-split-v1"
PRODIGAL = Path("text") / "collection" / "prodigal"


@dataclass(frozen=True, slots=True)
class LabelledCall:
    """One dialogue: its agent turns as final transcripts and its privacy label."""

    call_id: str
    disclosed_early: bool
    part: str
    agent_turns: tuple[Transcript, ...]


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Flagged calls against labels on one part."""

    part: str
    caught: tuple[str, ...]
    missed: tuple[str, ...]
    false_alarms: tuple[str, ...]
    clean: int

    def line(self) -> str:
        tp, fn, fp = len(self.caught), len(self.missed), len(self.false_alarms)
        recall = tp / (tp + fn) if tp + fn else 0.0
        precision = tp / (tp + fp) if tp + fp else 0.0
        return (
            f"{self.part}: {tp + fn + fp + self.clean} calls, {tp + fn} labelled early disclosure; "
            f"flagged {tp}/{tp + fn} (recall {recall:.2f}), false alarms {fp}/{fp + self.clean} "
            f"clean calls (precision {precision:.2f})"
        )


def _hash(call_id: str) -> str:
    return hashlib.sha256(f"{SPLIT_SEED}:{call_id}".encode()).hexdigest()


def parts_of(labels: dict[str, bool]) -> dict[str, str]:
    """Call id -> ``dev``/``test``: each label's calls ordered by hash and dealt alternately."""
    parts: dict[str, str] = {}
    for value in (True, False):
        group = sorted((c for c, v in labels.items() if v is value), key=_hash)
        for i, call_id in enumerate(group):
            parts[call_id] = "dev" if i % 2 == 0 else "test"
    return parts


def _labels(folder: Path) -> dict[str, bool]:
    path = folder / "privacy_labels.csv"
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError:
        raise DatasetError(f"{path}: evaluation file not found") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"{path}: cannot read: {exc}") from None
    labels: dict[str, bool] = {}
    for n, row in enumerate(rows, 2):
        label = (row.get("label") or "").strip()
        if label not in ("0", "1") or not row.get("call_id"):
            raise DatasetError(f"{path}:{n}: expected call_id and label 0 or 1")
        labels[row["call_id"].strip()] = label == "1"
    return labels


def _agent_turns(path: Path) -> tuple[Transcript, ...]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        turns = [t for t in raw if t["speaker"] == "Agent" and str(t["text"]).strip()]
        return tuple(
            Transcript(Leg.AGENT, i, float(t["stime"]), float(t["etime"]), str(t["text"]).strip(), final=True)
            for i, t in enumerate(turns)
        )
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise DatasetError(f"{path}: not a dialogue ({exc!r})") from None


def load_calls(data_dir: Path, part: str = "all") -> list[LabelledCall]:
    """The labelled dialogues of ``part`` (``dev``, ``test`` or ``all``), by call id."""
    folder = data_dir / PRODIGAL
    labels = _labels(folder)
    parts = parts_of(labels)
    return [
        LabelledCall(c, labels[c], parts[c], _agent_turns(folder / "calls" / f"{c}.json"))
        for c in sorted(labels)
        if part in ("all", parts[c])
    ]


def verify_rule_ids(ruleset: RuleSet) -> frozenset[str]:
    """The ids of the ruleset's verify_first rules."""
    return frozenset(r.id for r in ruleset.rules if r.kind == "verify_first")


def flagged_turn(ruleset: RuleSet, call: LabelledCall) -> int | None:
    """The first of the call's agent turns (its index in ``agent_turns``) on which a verify_first
    rule confirms a hit, checked as live; ``None`` when none does."""
    checker = LegChecker(ruleset, "en", Leg.AGENT)
    verify_rules = verify_rule_ids(ruleset)
    for i, turn in enumerate(call.agent_turns):
        for event in checker.update(turn):
            if event.status is HitStatus.CONFIRMED and event.hit.rule in verify_rules:
                return i
    return None


def flagged(ruleset: RuleSet, call: LabelledCall) -> bool:
    """Does a verify_first rule confirm a hit on the call's agent turns, checked as live?"""
    return flagged_turn(ruleset, call) is not None


def evaluate_verify(ruleset: RuleSet, data_dir: Path, part: str) -> VerifyResult:
    """Flagged calls against the privacy labels on ``part``."""
    calls = load_calls(data_dir, part)
    if not calls:
        raise DatasetError(f"{data_dir / PRODIGAL}: no labelled dialogues in part {part!r}")
    hits = {c.call_id: flagged(ruleset, c) for c in calls}
    return VerifyResult(
        part=part,
        caught=tuple(c.call_id for c in calls if c.disclosed_early and hits[c.call_id]),
        missed=tuple(c.call_id for c in calls if c.disclosed_early and not hits[c.call_id]),
        false_alarms=tuple(c.call_id for c in calls if not c.disclosed_early and hits[c.call_id]),
        clean=sum(not c.disclosed_early and not hits[c.call_id] for c in calls),
    )


def format_verify(result: VerifyResult) -> str:
    """The missed and falsely flagged calls, one line each, then the figures."""
    lines = [f"missed: call {c}" for c in result.missed]
    lines += [f"false alarm: call {c}" for c in result.false_alarms]
    lines.append(result.line())
    return "\n".join(lines)
