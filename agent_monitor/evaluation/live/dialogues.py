"""The labelled collection dialogues (prodigal) and their fixed tuning / reporting split.

``text/collection/prodigal`` holds one JSON file of turns per call (``speaker``, ``text``,
``stime``, ``etime`` in seconds) and ``utterances_with_profanity_label.csv`` with the annotator's
``profanity_label`` per turn. A :class:`Dialogue` is one call's turns with their labels.

The split is by call id and fixed: a call is in the **tuning** half when the SHA-256 of its id is
odd, in the **reporting** half when it is even. Matching is tuned on the tuning half only; the
reported figures come from the reporting half.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from agent_monitor.errors import DatasetError
from agent_monitor.model.audio import Leg

PRODIGAL = Path("text") / "collection" / "prodigal"
LABELS = "utterances_with_profanity_label.csv"
Split = Literal["tune", "report", "all"]
SPEAKERS = {"agent": Leg.AGENT, "customer": Leg.DEBTOR}


@dataclass(frozen=True, slots=True)
class Turn:
    """One turn of a dialogue: who speaks, what, when (the dialogue's own times), and its label
    (1 abusive, 0 clean, ``None`` unlabelled)."""

    index: int
    leg: Leg
    text: str
    stime: float
    etime: float
    label: int | None


@dataclass(frozen=True, slots=True)
class Dialogue:
    call_id: str
    turns: tuple[Turn, ...]

    @property
    def abusive_agent_turns(self) -> int:
        return sum(1 for t in self.turns if t.leg is Leg.AGENT and t.label == 1)


def split_of(call_id: str) -> Literal["tune", "report"]:
    """The fixed half a call belongs to (SHA-256 of the id: odd = tuning, even = reporting)."""
    return "tune" if int(hashlib.sha256(call_id.encode()).hexdigest(), 16) % 2 else "report"


def _labels(folder: Path) -> dict[tuple[str, int], int]:
    path = folder / LABELS
    try:
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        return {(r["call_id"], int(r["turn"])): int(r["profanity_label"]) for r in rows}
    except (OSError, KeyError, ValueError) as exc:
        raise DatasetError(f"{path}: cannot read the turn labels ({exc})") from None


def _turn(call_id: str, i: int, raw: dict[str, object], labels: dict[tuple[str, int], int]) -> Turn:
    leg = SPEAKERS.get(str(raw.get("speaker", "")).lower())
    if leg is None:
        raise DatasetError(f"call {call_id} turn {i}: unknown speaker {raw.get('speaker')!r}")
    try:
        stime, etime = float(str(raw["stime"])), float(str(raw["etime"]))
    except (KeyError, ValueError):
        raise DatasetError(f"call {call_id} turn {i}: missing or bad stime/etime") from None
    return Turn(i, leg, str(raw.get("text", "")).strip(), stime, etime, labels.get((call_id, i)))


def load_dialogues(data_dir: Path, split: Split = "all") -> list[Dialogue]:
    """The dialogues of ``split`` under ``data_dir`` (the shared evaluation data), by call id."""
    folder = data_dir / PRODIGAL
    calls = sorted((folder / "calls").glob("*.json"))
    if not calls:
        raise DatasetError(f"{folder}: no dialogues (calls/*.json); set AGENT_MONITOR_EVAL_DATA_DIR")
    labels = _labels(folder)
    out = []
    for path in calls:
        call_id = path.stem
        if split != "all" and split_of(call_id) != split:
            continue
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DatasetError(f"{path}: not a dialogue ({exc})") from None
        turns = tuple(
            _turn(call_id, i, t, labels) for i, t in enumerate(raw) if str(t.get("text", "")).strip()
        )
        out.append(Dialogue(call_id, turns))
    return out


def choose(dialogues: list[Dialogue], n: int | None, seed: int) -> list[Dialogue]:
    """``n`` dialogues: those with abusive agent turns first, then the others, each group in a
    seeded random order (so a small run still measures recall)."""
    rng = random.Random(seed)
    abusive = [d for d in dialogues if d.abusive_agent_turns]
    clean = [d for d in dialogues if not d.abusive_agent_turns]
    rng.shuffle(abusive)
    rng.shuffle(clean)
    ordered = abusive + clean
    return ordered if n is None else ordered[:n]
