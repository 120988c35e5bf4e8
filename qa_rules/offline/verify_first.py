"""``agent-monitor eval verify``: the verify_first rules (account details given before the person
was verified, US-3P-3 of ``shared/reference``) on the collection dialogues' privacy labels.

``text/collection/prodigal/privacy_labels.csv`` marks a call 1 when the agent shared account
details before the caller's identity was verified. Each call's turns go in the order they start,
as final transcripts with the dialogue's own times, through its leg's streaming checker
(:class:`qa_rules.streaming.LegChecker`, the two sharing the call's facts, as on a live call); a
call is flagged when a verify_first rule confirms a hit in it. The same run counts the calls where
the person who answered said they are not the debtor (a ``wrong_party`` hit) and those where the
agent then named the debt (EN-3P-2), and those where the person would not verify who they are
(EN-VERIFY-REFUSED-1, which undoes the agent's earlier request for EN-3P-3): the data has no label
for these, so the calls are listed to be read. The calls are dealt to ``dev`` and ``test`` by hash
within each label (:data:`SPLIT_SEED`): the patterns were written looking at ``dev`` only; ``test``
is the figure.
The set is evaluation data: read here, never copied into the project.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from agent_monitor.errors import DatasetError
from agent_monitor.model.audio import Leg
from agent_monitor.model.rules import WRONG_PARTY, CallFacts, HitStatus
from agent_monitor.model.transcript import Transcript
from qa_rules.engine import RuleSet
from qa_rules.streaming import LegChecker

SPLIT_SEED = "agent-monitor-privacy-split-v1"
PRODIGAL = Path("text") / "collection" / "prodigal"


@dataclass(frozen=True, slots=True)
class LabelledCall:
    """One dialogue: its turns as final transcripts and its privacy label."""

    call_id: str
    disclosed_early: bool
    part: str
    #: both legs' turns as final transcripts, in the order they start
    turns: tuple[Transcript, ...]

    @property
    def agent_turns(self) -> tuple[Transcript, ...]:
        return tuple(t for t in self.turns if t.leg is Leg.AGENT)


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Flagged calls against labels on one part."""

    part: str
    caught: tuple[str, ...]
    missed: tuple[str, ...]
    false_alarms: tuple[str, ...]
    clean: int
    #: calls where the person who answered said they are not the debtor (no label: read them)
    wrong_party: tuple[str, ...] = ()
    #: of those, calls where the agent named the debt after it (a rule ``after`` the fact)
    told: tuple[str, ...] = ()
    #: calls where the person would not verify who they are (a fact a verify_first rule's
    #: ``refused`` names; no label: read them)
    refused: tuple[str, ...] = ()

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


def _turns(path: Path) -> tuple[Transcript, ...]:
    """Both legs' turns as final transcripts in the order they start (numbered per leg)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        said = sorted((t for t in raw if str(t["text"]).strip()), key=lambda t: float(t["stime"]))
        count = {Leg.AGENT: 0, Leg.DEBTOR: 0}
        out = []
        for t in said:
            leg = Leg.AGENT if t["speaker"] == "Agent" else Leg.DEBTOR
            out.append(
                Transcript(
                    leg, count[leg], float(t["stime"]), float(t["etime"]), str(t["text"]).strip(), True
                )
            )
            count[leg] += 1
        return tuple(out)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise DatasetError(f"{path}: not a dialogue ({exc!r})") from None


def load_calls(data_dir: Path, part: str = "all") -> list[LabelledCall]:
    """The labelled dialogues of ``part`` (``dev``, ``test`` or ``all``), by call id."""
    folder = data_dir / PRODIGAL
    labels = _labels(folder)
    parts = parts_of(labels)
    return [
        LabelledCall(c, labels[c], parts[c], _turns(folder / "calls" / f"{c}.json"))
        for c in sorted(labels)
        if part in ("all", parts[c])
    ]


def verify_rule_ids(ruleset: RuleSet) -> frozenset[str]:
    """The ids of the ruleset's verify_first rules."""
    return frozenset(r.id for r in ruleset.rules if r.kind == "verify_first")


def _checked(ruleset: RuleSet, call: LabelledCall) -> Iterator[tuple[Transcript, frozenset[str]]]:
    """Each turn with the rules confirming a hit on it, the two legs checked as live: in the order
    the turns start, each leg by its own checker, the two sharing the call's facts."""
    facts = CallFacts()
    checkers = {leg: LegChecker(ruleset, "en", leg, facts=facts) for leg in (Leg.AGENT, Leg.DEBTOR)}
    for turn in call.turns:
        events = checkers[turn.leg].update(turn)
        yield turn, frozenset(e.hit.rule for e in events if e.status is HitStatus.CONFIRMED)


def confirmed(ruleset: RuleSet, call: LabelledCall) -> frozenset[str]:
    """The rules that confirm a hit on the call, its two legs checked as live."""
    return frozenset(rule for _, rules in _checked(ruleset, call) for rule in rules)


def flagged_turn(ruleset: RuleSet, call: LabelledCall) -> int | None:
    """The first of the call's agent turns (its index in ``agent_turns``) on which a verify_first
    rule confirms a hit, both legs checked as live (a debtor's refusal undoes a verification);
    ``None`` when none does."""
    verify_rules = verify_rule_ids(ruleset)
    agent_turn = -1
    for turn, rules in _checked(ruleset, call):
        if turn.leg is Leg.AGENT:
            agent_turn += 1
            if rules & verify_rules:
                return agent_turn
    return None


def flagged(ruleset: RuleSet, call: LabelledCall) -> bool:
    """Does a verify_first rule confirm a hit on the call, checked as live?"""
    return bool(confirmed(ruleset, call) & verify_rule_ids(ruleset))


def evaluate_verify(ruleset: RuleSet, data_dir: Path, part: str) -> VerifyResult:
    """Flagged calls against the privacy labels on ``part``."""
    calls = load_calls(data_dir, part)
    if not calls:
        raise DatasetError(f"{data_dir / PRODIGAL}: no labelled dialogues in part {part!r}")
    verify_rules = verify_rule_ids(ruleset)
    wrong_party = {r.id for r in ruleset.rules if r.category == WRONG_PARTY}
    told = {r.id for r in ruleset.rules if r.after == "wrong_party"}
    refusals = {r.refused for r in ruleset.rules if r.refused}
    refused = {r.id for r in ruleset.rules if r.fact and r.fact in refusals}
    found = {c.call_id: confirmed(ruleset, c) for c in calls}
    hits = {c: bool(rules & verify_rules) for c, rules in found.items()}
    return VerifyResult(
        part=part,
        caught=tuple(c.call_id for c in calls if c.disclosed_early and hits[c.call_id]),
        missed=tuple(c.call_id for c in calls if c.disclosed_early and not hits[c.call_id]),
        false_alarms=tuple(c.call_id for c in calls if not c.disclosed_early and hits[c.call_id]),
        clean=sum(not c.disclosed_early and not hits[c.call_id] for c in calls),
        wrong_party=tuple(c for c, rules in found.items() if rules & wrong_party),
        told=tuple(c for c, rules in found.items() if rules & told),
        refused=tuple(c for c, rules in found.items() if rules & refused),
    )


def format_verify(result: VerifyResult) -> str:
    """The missed and falsely flagged calls, one line each, then the figures."""
    lines = [f"missed: call {c}" for c in result.missed]
    lines += [f"false alarm: call {c}" for c in result.false_alarms]
    lines += [
        f"not the debtor: call {c}{' (debt named after it)' if c in result.told else ''}"
        for c in result.wrong_party
    ]
    lines += [f"refused to verify: call {c}" for c in result.refused]
    lines.append(result.line())
    lines.append(
        f"{result.part}: the person who answered said they are not the debtor on "
        f"{len(result.wrong_party)} calls, the agent named the debt after it on {len(result.told)} "
        "(no label: read the calls listed)"
    )
    lines.append(
        f"{result.part}: the person would not verify who they are on {len(result.refused)} calls "
        "(no label: read the calls listed)"
    )
    return "\n".join(lines)
