"""How much of the speech the VAD passes gives no word at all, per line condition and folder.

    agent-monitor eval asr --split tune --draws 1 --conditions clean,gsm+gain-20,... --words-out tune.jsonl
    python benchmarks/vad_yield.py tune.jsonl --split tune

For every clip of a word log (:mod:`asr.offline.words_log`) the same degraded audio as ``eval asr``
made (:func:`asr.offline.degrade.degraded_pcm`, same noise and loss draws) goes through the
pipeline's :class:`asr.vad.VadSegmenter` alone (no recognition), and is set against the words the
logged decode found. Prints per condition and folder: clips with reference words that gave no word
(and of those, how many had at least 0.3 s of VAD speech: heard, not made out), seconds of VAD
speech, words per second of VAD speech, and the share of the VAD speech that lay in clips with no
word. This is what a health rule that counts speech without words (deletions, which no word
confidence shows) could see; ``unclear`` (session 21) judges the confidence of the words found.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_monitor.audio.conditions import parse_conditions
from agent_monitor.model.audio import Leg
from agent_monitor.settings import Settings, load_settings
from asr.offline.degrade import degraded_pcm, noise_bank_for
from asr.offline.evaluate import FolderResult, label_rows, load_clips, spread
from asr.offline.splits import split_parts
from asr.offline.words_log import Decode, read_log
from asr.vad import SpeechAudio, VadSegmenter

#: a clip with at least this much VAD speech and no word was heard but not made out
HEARD_S = 0.3


@dataclass
class Yield:
    clips: int = 0
    empty: int = 0
    empty_heard: int = 0
    vad_s: float = 0.0
    empty_vad_s: float = 0.0
    words: int = 0


def vad_seconds(settings: Settings, pcm: bytes) -> float:
    rate = settings.asr.sample_rate
    vad = VadSegmenter(settings.vad, rate, Leg.AGENT)
    step = int(0.04 * rate) * 2
    outs = [o for i in range(0, len(pcm), step) for o in vad.push(pcm[i : i + step])] + vad.flush()
    return sum(len(o.pcm) for o in outs if isinstance(o, SpeechAudio)) / 2 / rate


def measure(settings: Settings, log: list[Decode], split: str) -> dict[tuple[str, str], Yield]:
    rate = settings.asr.sample_rate
    by_clip = {(d.folder, d.condition, d.clip): d for d in log}
    out: dict[tuple[str, str], Yield] = defaultdict(Yield)
    lines = {name: parse_conditions(name)[0] for name in {d.condition for d in log}}
    for labels, part in split_parts(split, settings.eval_data_dir):
        folder = labels.parent.name
        if not any(d.folder == folder for d in log):
            continue
        rows = spread(label_rows(labels), part, part.files)
        noise = noise_bank_for(settings.eval_data_dir, labels.parent)
        for clip in load_clips(labels, rows, rate, FolderResult(folder=folder, condition="")):
            for name, line in lines.items():
                d = by_clip.get((folder, name, clip.name))
                if d is None:
                    continue
                seconds = vad_seconds(settings, degraded_pcm(clip.samples, rate, line, noise, clip.name))
                y = out[(name, folder)]
                empty = not d.words and bool(d.ref)
                y.clips += 1
                y.empty += empty
                y.empty_heard += empty and seconds >= HEARD_S
                y.vad_s += seconds
                y.empty_vad_s += seconds if empty else 0.0
                y.words += len(d.words)
    return out


def table(rows: dict[tuple[str, str], Yield]) -> str:
    lines = [
        "| condition | folder | clips | no word (VAD heard >= 0.3 s) | VAD speech s | words per VAD s "
        "| VAD speech in no-word clips |",
        "|---|---|---|---|---|---|---|",
    ]
    for (name, folder), y in sorted(rows.items()):
        per_s = y.words / y.vad_s if y.vad_s else float("nan")
        share = y.empty_vad_s / y.vad_s if y.vad_s else float("nan")
        lines.append(
            f"| {name} | {folder} | {y.clips} | {y.empty} ({y.empty_heard}) | {y.vad_s:.1f} | {per_s:.2f} "
            f"| {100 * share:.0f}% |"
        )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("log", type=Path, help="word log of eval asr --words-out")
    ap.add_argument("--split", required=True, help="the split the log was decoded on (tune, report, ...)")
    args = ap.parse_args()
    settings = load_settings()
    print(table(measure(settings, read_log(args.log), args.split)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
