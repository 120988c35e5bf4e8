"""A/B of Vosk CPU for one decoder option set against the model's own, alternating in one run.

    python benchmarks/bench_decoder_ab.py '{"frames_per_chunk": 51}' [--seconds 60] [--repeat 4]

Decodes the first ``--seconds`` of the SpokenWOZ call's agent leg (16 kHz, 0.1 s pieces) on a
warmed recognizer of each model in turn, ``--repeat`` times, and prints the thread CPU time of
each run and the median. Alternating in one process is the fairest comparison on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import time

from agent_monitor.audio.decode import decode_file, float_to_pcm16
from agent_monitor.settings import DecoderSettings, load_settings
from asr.model_path import resolve_model_path
from asr.recognizer import new_recognizer
from asr.streaming import load_vosk_model
from asr.warmup import pseudo_speech, warm_up

RATE = 16000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("options", help="decoder options as JSON, e.g. '{\"beam\": 8.0}'")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=4)
    args = parser.parse_args()
    settings = load_settings()
    audio = decode_file(settings.eval_data_dir / "calls/spokenwoz/MUL1011.opus", target_rate=RATE)
    pcm = float_to_pcm16(audio.samples[0][: int(args.seconds * RATE)])
    path = resolve_model_path(settings)
    models = {
        "installed": load_vosk_model(path),
        args.options: load_vosk_model(path, DecoderSettings(**json.loads(args.options))),
    }
    cpu: dict[str, list[float]] = {name: [] for name in models}
    warm = pseudo_speech(2.0, RATE)
    for _ in range(args.repeat):
        for name, model in models.items():
            kaldi = warm_up(new_recognizer(model, RATE), warm).kaldi
            t0 = time.thread_time()
            for i in range(0, len(pcm), RATE // 10 * 2):
                kaldi.AcceptWaveform(pcm[i : i + RATE // 10 * 2])
            kaldi.FinalResult()
            cpu[name].append(time.thread_time() - t0)
    for name, runs in cpu.items():
        median = sorted(runs)[len(runs) // 2]
        print(
            f"{name:<32} median {median:.2f} s CPU for {args.seconds:.0f} s: "
            + " ".join(f"{x:.2f}" for x in runs)
        )


if __name__ == "__main__":
    main()
