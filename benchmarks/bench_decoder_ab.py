"""A/B of Vosk CPU for decoder/feature option sets against the model's own, alternating in one run.

    python benchmarks/bench_decoder_ab.py '{"dither": 0.0}' ['{"beam": 8.0}' ...]
        [--seconds 60] [--repeat 5] [--audio calls/spokenwoz/MUL1011.opus]

Decodes the first ``--seconds`` of ``--audio``'s first channel (a file, or a folder whose audio
files are joined in name order, under the evaluation data directory; default the SpokenWOZ call's
agent leg; 16 kHz, 0.1 s pieces) on a warmed recognizer (on the built static graph, as the live
path decodes, unless ``--lookahead``) of
each model in turn, ``--repeat`` times (the order of the models rotates each round), and prints
the thread CPU time of each run, the median, the median of the paired ratios to the installed
options, and how many distinct transcripts each model gave over the runs (1: repeatable).
Alternating in one process is the fairest comparison on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_monitor.settings import DecoderSettings, load_settings
from asr.model_loading import load_vosk_model
from asr.model_path import resolve_model_path
from asr.recognizer import new_recognizer
from asr.static_graph import find_static_graph
from asr.warmup import pseudo_speech, warm_up
from benchmarks.profile_vosk import load_pcm

RATE = 16000
PIECE = RATE // 10 * 2


def decode_once(model: Any, pcm: bytes, warm: bytes) -> tuple[float, str]:
    """Thread CPU seconds of decoding ``pcm`` on a warmed new recognizer, and its transcript."""
    kaldi = warm_up(new_recognizer(model, RATE), warm).kaldi
    t0 = time.thread_time()
    for i in range(0, len(pcm), PIECE):
        kaldi.AcceptWaveform(pcm[i : i + PIECE])
    text = str(json.loads(kaldi.FinalResult()).get("text", ""))
    return time.thread_time() - t0, text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("options", nargs="+", help="option sets as JSON, e.g. '{\"dither\": 0.0}'")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--audio", default="calls/spokenwoz/MUL1011.opus")
    parser.add_argument(
        "--lookahead", action="store_true", help="the model's own lookahead graph, not the built static graph"
    )
    args = parser.parse_args()
    settings = load_settings()
    pcm = load_pcm(settings.eval_data_dir / args.audio, args.seconds)
    path = resolve_model_path(settings)
    graph = None
    if not args.lookahead:
        graph, why = find_static_graph(path)
        if graph is None:
            raise SystemExit(f"no static graph ({why}); build it or pass --lookahead")
    print(f"graph: {'lookahead (HCLr+Gr)' if graph is None else graph}")
    models = {"installed": load_vosk_model(path, static_graph=graph)}
    models |= {
        opts: load_vosk_model(path, DecoderSettings(**json.loads(opts)), graph) for opts in args.options
    }
    names = list(models)
    cpu: dict[str, list[float]] = {name: [] for name in names}
    texts: dict[str, set[str]] = {name: set() for name in names}
    warm = pseudo_speech(2.0, RATE)
    for round_ in range(args.repeat):
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            seconds, text = decode_once(models[name], pcm, warm)
            cpu[name].append(seconds)
            texts[name].add(text)
    for name in names:
        ratio = statistics.median(x / base for x, base in zip(cpu[name], cpu["installed"], strict=True))
        print(
            f"{name:<32} median {statistics.median(cpu[name]):.2f} s CPU for {len(pcm) / 2 / RATE:.0f} s"
            f" (x{ratio:.3f} of installed, paired); {len(texts[name])} distinct transcript(s): "
            + " ".join(f"{x:.2f}" for x in cpu[name])
        )


if __name__ == "__main__":
    main()
