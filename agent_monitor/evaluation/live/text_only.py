"""``agent-monitor eval live --text-only``: the live evaluation's agent turns as text only.

The same dialogues, split and call choice as the live run (:mod:`.dialogues`), without speech or
a server: each labelled agent turn's written text through the rule engine on the agent leg (the
"flagged as text" column of the live report). It lists every clean-labelled turn that fires, with
the rules, so false alarms can be studied on the tuning half and counted on the reporting half.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agent_monitor.evaluation.live.dialogues import Split, choose, load_dialogues
from agent_monitor.model.audio import Leg
from qa_rules.engine import RuleSet
from qa_rules.packs import ABUSE_CATEGORIES


@dataclass(frozen=True, slots=True)
class TextTurn:
    call_id: str
    text: str
    label: int
    rules: tuple[str, ...]


def text_turns(
    ruleset: RuleSet, data_dir: Path, split: Split, calls: int | None, seed: int
) -> list[TextTurn]:
    """Every labelled agent turn of the chosen dialogues with the abuse rules its text fires."""
    out = []
    for dialogue in choose(load_dialogues(data_dir, split), calls, seed):
        for turn in dialogue.turns:
            if turn.leg is not Leg.AGENT or turn.label is None:
                continue
            hits = ruleset.check(turn.text, "en", Leg.AGENT)
            rules = tuple(sorted({h.rule for h in hits if h.category in ABUSE_CATEGORIES}))
            out.append(TextTurn(dialogue.call_id, turn.text, turn.label, rules))
    return out


def format_text_turns(turns: list[TextTurn], split: str) -> str:
    """The clean turns that fire, then recall and the clean-turn false-alarm rate."""
    abusive = [t for t in turns if t.label == 1]
    clean = [t for t in turns if t.label == 0]
    fired = [t for t in clean if t.rules]
    lines = [f"clean agent turn flagged: call {t.call_id[:8]} {','.join(t.rules)}: {t.text}" for t in fired]
    calls = len({t.call_id for t in turns})
    found = sum(bool(t.rules) for t in abusive)
    lines.append(
        f"{split} half as text ({calls} calls): abusive agent turns flagged {found}/{len(abusive)}, "
        f"clean agent turns flagged {len(fired)}/{len(clean)} = {len(fired) / max(len(clean), 1):.1%}"
    )
    return "\n".join(lines)
