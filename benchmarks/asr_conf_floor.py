"""WER if the pipeline dropped every word under a confidence floor, per line condition.

    agent-monitor eval asr --split tune --conditions all --draws 2 --words-out tune.jsonl
    python benchmarks/asr_conf_floor.py tune.jsonl [more.jsonl ...] [--floors 0,0.3,0.4,0.5,0.6,0.7]

Reads word logs (:mod:`asr.offline.words_log`; several files are pooled, e.g. the two halves of a
grid run in two processes) and prints, per condition, plain Vosk's WER and the pipeline's WER minus
plain's at each floor (floor 0 is the pipeline as it is; plain Vosk is never filtered), the share of
the pipeline's words each floor drops, and per floor how many conditions stay within +1 point of
plain Vosk (issue #10's bound). Nothing is decoded again: a floor acts on the logged words only.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_monitor.errors import ConfigError
from asr.offline.evaluate import edit_distance, normalise
from asr.offline.words_log import Decode, read_log

BOUND = 1.0  # points over plain Vosk


def tally(decodes: list[Decode], floors: list[float]) -> dict[str, Counter[str]]:
    """Per condition: reference words, plain errors, and per floor pipeline errors and words kept."""
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for d in decodes:
        c = out[d.condition]
        c["ref"] += len(d.ref)
        c["plain"] += edit_distance(d.ref, d.plain)
        c["words"] += len(d.words)
        for f in floors:
            kept = [w for w, conf in d.words if conf >= f]
            c[f"err{f}"] += edit_distance(d.ref, normalise(" ".join(kept)))
            c[f"kept{f}"] += len(kept)
    return out


def table(counts: dict[str, Counter[str]], floors: list[float]) -> str:
    floor_heads = " ".join(f"{'floor ' + str(f):>15}" for f in floors)
    head = f"{'condition':<14} {'words':>6} {'plain WER':>9} {floor_heads}"
    lines = [head, "-" * len(head)]
    within: Counter[float] = Counter()
    for cond, c in counts.items():
        ref = max(1, c["ref"])
        cells = []
        for f in floors:
            diff = 100.0 * (c[f"err{f}"] - c["plain"]) / ref
            dropped = 100.0 * (1 - c[f"kept{f}"] / max(1, c["words"]))
            within[f] += diff <= BOUND
            cells.append(f"{diff:+7.2f} ({dropped:4.1f}%)")
        row = " ".join(f"{x:>15}" for x in cells)
        lines.append(f"{cond:<14} {c['ref']:>6} {100.0 * c['plain'] / ref:>8.2f}% {row}")
    lines.append("-" * len(head))
    lines.append(f"{'within +1':<32} " + " ".join(f"{f'{within[f]}/{len(counts)}':>15}" for f in floors))
    lines.append("cells: pipeline WER minus plain Vosk's, points (share of the pipeline's words dropped)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("logs", nargs="+", type=Path, help="word logs from eval asr --words-out")
    parser.add_argument("--floors", default="0,0.3,0.4,0.5,0.6,0.7", help="confidence floors, commas")
    args = parser.parse_args()
    floors = [float(x) for x in args.floors.split(",")]
    try:
        decodes = [d for path in args.logs for d in read_log(path)]
    except ConfigError as exc:
        sys.exit(f"asr_conf_floor: {exc}")
    print(table(tally(decodes, floors), floors))


if __name__ == "__main__":
    main()
