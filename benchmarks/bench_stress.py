"""Cost of live stress tracking: percent of one CPU core per live leg.

    python benchmarks/bench_stress.py [--data DIR] [--frame-ms 20] [--repeat 3]

Replays both legs of the real SpokenWOZ call (``calls/spokenwoz/MUL1011.opus``, 8 kHz stereo,
about 3 minutes) through :class:`emotion.tracker.StressTracker` in 20 ms ``AudioFrame`` s, as the
live pipeline does, once at the call's own 8 kHz and once resampled to 16 kHz (the ASR rate).
CPU time is ``time.process_time`` of the feeding loop (model loading and file decoding excluded);
``% core per leg`` = CPU seconds / audio seconds of one leg * 100. Goal: at most 1%.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_monitor.model.audio import AudioFrame, Leg
from agent_monitor.settings import load_settings
from emotion.model import load_model
from emotion.tracker import StressTracker


def to_pcm(x: np.ndarray) -> bytes:
    return np.clip(np.round(x * 32768.0), -32768, 32767).astype("<i2").tobytes()


def run_leg(pcm: bytes, rate: int, frame_ms: int, leg: Leg) -> tuple[float, float, int]:
    settings = load_settings()
    model = load_model(settings.stress.model_file)
    tracker = StressTracker(settings.stress, model, rate, leg)
    step = rate * frame_ms // 1000 * 2
    n_samples = 0
    t0 = time.process_time()
    for off in range(0, len(pcm), step):
        chunk = pcm[off : off + step]
        tracker.push_frame(AudioFrame(leg, off / 2 / rate, chunk, rate))
        n_samples += len(chunk) // 2
    tracker.finish()
    cpu = time.process_time() - t0
    return cpu, n_samples / rate, len(tracker.samples)


def main() -> int:
    import soundfile as sf
    import soxr

    settings = load_settings()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=settings.eval_data_dir)
    parser.add_argument("--frame-ms", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs per configuration")
    args = parser.parse_args()

    path = args.data / "calls" / "spokenwoz" / "MUL1011.opus"
    audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
    print(f"{path.name}: {audio.shape[0] / rate:.1f} s, {rate} Hz, {audio.shape[1]} channels")
    worst = 0.0
    for target in (8000, 16000):
        for ch, leg in ((0, Leg.AGENT), (1, Leg.DEBTOR)):
            x = audio[:, ch]
            if target != rate:
                x = soxr.resample(x, rate, target)
            pcm = to_pcm(x)
            runs = [run_leg(pcm, target, args.frame_ms, leg) for _ in range(args.repeat)]
            cpu, secs, n = min(runs)
            pct = 100.0 * cpu / secs
            worst = max(worst, pct)
            print(
                f"  {target:>5} Hz  channel {ch} ({leg.value:<6}): {secs:6.1f} s audio, {n} samples, "
                f"CPU {cpu:.3f} s -> {pct:.2f}% of one core per leg"
            )
    print(f"worst: {worst:.2f}% of one core per leg (goal <= 1%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
