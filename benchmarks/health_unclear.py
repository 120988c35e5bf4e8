"""How often the ``unclear`` health issue is active on a leg, per line condition and folder.

    agent-monitor eval asr --split tune --conditions clean,gsm+gain-20,... --draws 1 --words-out tune.jsonl
    python benchmarks/health_unclear.py tune.jsonl [more.jsonl ...] [--words 50] [--conf 0.78]
        [--speech-s 30] [--share 0.3] [--no-share]

Reads word logs (:mod:`asr.offline.words_log`) and plays each folder's clips, in the logged order,
as the finals of one leg through the real rule (:meth:`agent_monitor.pipeline.health.CallHealth.heard`,
thresholds from the settings unless given): each logged final with its seconds of VAD speech and
its words, wordless ones too (logs from before session 23 carry no finals: each clip is then one
final, and the wordless half of the rule never decides). Prints per condition and folder: the
pipeline's WER, the mean word confidence, the share of the VAD speech that gave no word, the share
of the words heard while ``unclear`` was active, the share of the speech heard while it was active
(words lost to deletion are in this one), and how many times it started. Nothing is decoded again.
``--no-share`` plays the confidence half alone (the rule before session 23).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import ValidationError

from agent_monitor.errors import ConfigError
from agent_monitor.model.audio import Leg
from agent_monitor.model.health import HealthIssue
from agent_monitor.model.transcript import Transcript, Word
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
    speech_s: float = 0.0
    wordless_s: float = 0.0
    active_words: int = 0
    active_s: float = 0.0
    starts: int = 0


def finals(d: Decode) -> list[Transcript]:
    """The logged finals of one decode, each with its words (one final per clip in older logs)."""
    counts = d.utterances or [(0.0, len(d.words))]
    out, taken = [], 0
    for speech_s, n in counts:
        words = tuple(Word(text=w, start=0.0, end=0.0, conf=c) for w, c in d.words[taken : taken + n])
        taken += n
        text = " ".join(w.text for w in words)
        out.append(Transcript(Leg.DEBTOR, 0, 0.0, 0.0, text, True, words, speech_s=speech_s))
    return out


def play(decodes: list[Decode], settings: HealthSettings) -> dict[tuple[str, str], LegTally]:
    out: dict[tuple[str, str], LegTally] = defaultdict(LegTally)
    monitors: dict[tuple[str, str, int], CallHealth] = {}
    seen: dict[tuple[str, str, str], int] = defaultdict(int)
    for d in decodes:
        key = (d.condition, d.folder)
        draw = seen[(*key, d.clip)]  # the k-th decode of a clip is the k-th dither draw: its own leg
        seen[(*key, d.clip)] += 1
        health = monitors.setdefault((*key, draw), CallHealth("bench", settings, 8000, "L16"))
        row = out[key]
        row.ref += len(d.ref)
        row.errors += edit_distance(d.ref, normalise(" ".join(w for w, _ in d.words)))
        for final in finals(d):
            row.starts += sum(e.health.active for e in health.heard(Leg.DEBTOR, final))
            row.words += len(final.words)
            row.conf += sum(w.conf for w in final.words)
            row.speech_s += final.speech_s
            row.wordless_s += final.speech_s if final.wordless else 0.0
            if HealthIssue.UNCLEAR in health.active(Leg.DEBTOR):
                row.active_words += len(final.words)
                row.active_s += final.speech_s
    return out


def table(rows: dict[tuple[str, str], LegTally], settings: HealthSettings) -> str:
    cols = ("words", "WER", "mean conf", "wordless", "unclear", "unclear s", "starts")
    head = f"{'condition':<16} {'folder':<18} " + " ".join(f"{c:>{max(6, len(c))}}" for c in cols)
    s = settings
    lines = [
        f"unclear: mean confidence of the last {s.unclear_words} words below {s.unclear_conf:g}, or at "
        f"least {s.unclear_wordless_share:g} of the last {s.unclear_speech_s:g} s of VAD speech wordless",
        head,
        "-" * len(head),
    ]
    for (cond, folder), r in sorted(rows.items()):
        wer = 100.0 * r.errors / max(1, r.ref)
        conf = r.conf / max(1, r.words)
        wordless = 100.0 * r.wordless_s / r.speech_s if r.speech_s else 0.0
        active = 100.0 * r.active_words / max(1, r.words)
        active_s = 100.0 * r.active_s / r.speech_s if r.speech_s else 0.0
        cells = f"{r.words:>6} {wer:>5.1f}% {conf:>9.3f} {wordless:>7.0f}% {active:>6.0f}%"
        cells += f" {active_s:>8.0f}% {r.starts:>6}"
        lines.append(f"{cond:<16} {folder:<18} {cells}")
    lines.append(
        "wordless: share of the VAD speech that gave no word; unclear / unclear s: share of the leg's"
        " words / VAD speech heard while the issue was active"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("logs", nargs="+", type=Path, help="word logs from eval asr --words-out")
    parser.add_argument("--words", type=int, default=None, help="window (default: settings)")
    parser.add_argument("--conf", type=float, default=None, help="threshold (default: settings)")
    parser.add_argument("--speech-s", type=float, default=None, help="speech window (default: settings)")
    parser.add_argument("--share", type=float, default=None, help="wordless share (default: settings)")
    parser.add_argument("--no-share", action="store_true", help="the confidence half of the rule alone")
    args = parser.parse_args()
    share = 1.0 if args.no_share else args.share  # a share of 1 needs every final wordless: near never
    given = (
        ("unclear_words", args.words),
        ("unclear_conf", args.conf),
        ("unclear_speech_s", args.speech_s),
        ("unclear_wordless_share", share),
    )
    update = {k: v for k, v in given if v is not None}
    try:
        settings = HealthSettings.model_validate(update)
    except ValidationError as exc:
        sys.exit(f"health_unclear: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}")
    try:
        decodes = [d for path in args.logs for d in read_log(path)]
    except ConfigError as exc:
        sys.exit(f"health_unclear: {exc}")
    print(table(play(decodes, settings), settings))


if __name__ == "__main__":
    main()
