"""How often the ``unclear`` health issue is active on a leg, per line condition and folder.

    agent-monitor eval asr --split tune --conditions clean,gsm+gain-20,... --draws 1 --words-out tune.jsonl
    python benchmarks/health_unclear.py tune.jsonl [more.jsonl ...] [--words 50] [--conf 0.78]

Reads word logs (:mod:`asr.offline.words_log`) and plays each folder's clips, in the logged order,
as the finals of one leg through the real rule (:meth:`agent_monitor.pipeline.health.CallHealth.heard`,
thresholds from the settings unless given). Prints per condition and folder: the pipeline's WER,
the mean word confidence, the share of the words heard while ``unclear`` was active, and how many
times it started. Nothing is decoded again.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_monitor.errors import ConfigError
from agent_monitor.model.audio import Leg
from agent_monitor.model.health import HealthIssue
from agent_monitor.model.transcript import Word
from agent_monitor.pipeline.health import CallHealth
from agent_monitor.settings import HealthSettings
from asr.offline.evaluate import edit_distance, normalise
from asr.offline.words_log import Decode, read_log


@dataclass
class LegTally:
    """One condition and folder played as one leg."""

    ref: int = 0
    errors: int = 0
    words: int = 0
    conf: float = 0.0
    active_words: int = 0
    starts: int = 0


def play(decodes: list[Decode], settings: HealthSettings) -> dict[tuple[str, str], LegTally]:
    out: dict[tuple[str, str], LegTally] = defaultdict(LegTally)
    monitors: dict[tuple[str, str, int], CallHealth] = {}
    seen: dict[tuple[str, str, str], int] = defaultdict(int)
    for d in decodes:
        key = (d.condition, d.folder)
        draw = seen[(*key, d.clip)]  # the k-th decode of a clip is the k-th dither draw: its own leg
        seen[(*key, d.clip)] += 1
        health = monitors.setdefault((*key, draw), CallHealth("bench", settings, 8000, "L16"))
        words = [Word(text=w, start=0.0, end=0.0, conf=c) for w, c in d.words]
        events = health.heard(Leg.DEBTOR, words, 0.0)
        row = out[key]
        row.starts += sum(e.health.active for e in events)
        row.ref += len(d.ref)
        row.errors += edit_distance(d.ref, normalise(" ".join(w for w, _ in d.words)))
        row.words += len(words)
        row.conf += sum(w.conf for w in words)
        if HealthIssue.UNCLEAR in health.active(Leg.DEBTOR):
            row.active_words += len(words)
    return out


def table(rows: dict[tuple[str, str], LegTally], settings: HealthSettings) -> str:
    cols = ("words", "WER", "mean conf", "unclear", "starts")
    head = f"{'condition':<16} {'folder':<18} " + " ".join(f"{c:>{max(6, len(c))}}" for c in cols)
    window = f"the last {settings.unclear_words} words"
    lines = [f"unclear: mean confidence of {window} below {settings.unclear_conf:g}", head, "-" * len(head)]
    for (cond, folder), r in sorted(rows.items()):
        wer = 100.0 * r.errors / max(1, r.ref)
        active = 100.0 * r.active_words / max(1, r.words)
        conf = r.conf / max(1, r.words)
        cells = f"{r.words:>6} {wer:>5.1f}% {conf:>9.3f} {active:>6.0f}% {r.starts:>6}"
        lines.append(f"{cond:<16} {folder:<18} {cells}")
    lines.append("unclear: share of the leg's words heard while the issue was active")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("logs", nargs="+", type=Path, help="word logs from eval asr --words-out")
    parser.add_argument("--words", type=int, default=None, help="window (default: settings)")
    parser.add_argument("--conf", type=float, default=None, help="threshold (default: settings)")
    args = parser.parse_args()
    update = {k: v for k, v in (("unclear_words", args.words), ("unclear_conf", args.conf)) if v is not None}
    settings = HealthSettings.model_validate(update)
    try:
        decodes = [d for path in args.logs for d in read_log(path)]
    except ConfigError as exc:
        sys.exit(f"health_unclear: {exc}")
    print(table(play(decodes, settings), settings))


if __name__ == "__main__":
    main()
