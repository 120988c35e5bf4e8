"""The ``unclear`` health rule on a real two-party call under line conditions, leg by leg.

    python benchmarks/health_unclear_call.py [--data DIR] [--call calls/spokenwoz/MUL1011.opus]
        [--conditions clean,amr+gain-20,...] [--windows 30,60] [--speech-s 30] [--share 0.3]

Each leg of the stereo call (agent left, debtor right) goes over each line condition
(:mod:`agent_monitor.audio.conditions`, same draws as ``eval asr``), through the pipeline's
recognizer (:func:`asr.transcribe.transcribe_legs`, dither draw 0), and its finals, wordless ones
too, through the real rule (:meth:`agent_monitor.pipeline.health.CallHealth.heard`, thresholds from
the settings unless given). Prints per condition and leg: finals and wordless finals, seconds of
VAD speech, the share of it that gave no word, the largest such share over any run of finals
holding each window's seconds of speech, and the ``unclear`` starts. A real call has wordless
speech of its own (breaths, laughter, noise the VAD passes): this is what a threshold must leave
alone. Data: ``--data``, default the settings' ``eval_data_dir``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import ValidationError

from agent_monitor.audio.conditions import parse_conditions
from agent_monitor.audio.decode import decode_file
from agent_monitor.audio.noise import NoiseBank
from agent_monitor.model.audio import Leg
from agent_monitor.model.health import HealthIssue
from agent_monitor.model.transcript import Transcript
from agent_monitor.pipeline.health import CallHealth, SpeechYield
from agent_monitor.settings import HealthSettings, load_settings
from asr.offline.degrade import degraded_pcm
from asr.offline.draws import seed_dither
from asr.streaming import RecognizerPool
from asr.transcribe import transcribe_legs

LEGS = (Leg.AGENT, Leg.DEBTOR)


def worst_share(finals: list[Transcript], window_s: float) -> float:
    """The largest wordless share over the leg's finals, each time the window holds ``window_s``."""
    spoken, worst = SpeechYield(), 0.0
    for final in finals:
        spoken.add(final.speech_s, final.wordless, window_s)
        if spoken.total_s >= window_s:
            worst = max(worst, spoken.wordless_share())
    return worst


def leg_line(
    spec: str, leg: Leg, finals: list[Transcript], windows: list[float], health: HealthSettings
) -> str:
    monitor = CallHealth("bench", health, 16000, "L16")
    events = [e for f in finals for e in monitor.heard(leg, f)]
    speech = sum(f.speech_s for f in finals)
    wordless = sum(f.speech_s for f in finals if f.wordless)
    worst = " ".join(f"{100 * worst_share(finals, w):>5.0f}%" for w in windows)
    starts = [
        f"{e.t:.0f}s {'deaf' if e.health.figures.get('deaf') else 'unsure'}"
        for e in events
        if e.health.issue is HealthIssue.UNCLEAR and e.health.active
    ]
    return (
        f"{spec:<18} {leg.value:<7} {len(finals):>6} {sum(f.wordless for f in finals):>8} {speech:>8.1f}"
        f" {100 * wordless / max(speech, 1e-9):>8.0f}% {worst}  {', '.join(starts) or '-'}"
    )


def main() -> None:
    settings = load_settings()
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--data", type=Path, default=settings.eval_data_dir, help="evaluation data dir")
    parser.add_argument(
        "--call", default="calls/spokenwoz/MUL1011.opus", help="stereo call under the data dir"
    )
    parser.add_argument("--conditions", default="clean,line-snr10,babble-snr10,gsm,amr+gain-20,gsm+gain-20")
    parser.add_argument("--windows", default="30,60", help="seconds of speech for the worst-share columns")
    parser.add_argument("--speech-s", type=float, default=None, help="rule's window (default: settings)")
    parser.add_argument("--share", type=float, default=None, help="rule's wordless share (default: settings)")
    args = parser.parse_args()
    given = (("unclear_speech_s", args.speech_s), ("unclear_wordless_share", args.share))
    update = {k: v for k, v in given if v is not None}
    try:
        health = HealthSettings.model_validate(settings.health.model_dump() | update)
    except ValidationError as exc:
        sys.exit(f"health_unclear_call: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}")
    data: Path = args.data
    rate = settings.asr.sample_rate
    audio = decode_file(data / args.call, target_rate=rate)
    bank = NoiseBank.from_data_dir(data)
    windows = [float(w) for w in args.windows.split(",")]
    pool = RecognizerPool.from_settings(settings)
    print(
        f"unclear: wordless share of the last {health.unclear_speech_s:g} s of speech at least "
        f"{health.unclear_wordless_share:g}, or mean confidence of the last {health.unclear_words} words "
        f"below {health.unclear_conf:g}; {args.call}"
    )
    worst_cols = " ".join(f"{f'worst {w:g}s':>6}" for w in windows)
    print(
        f"{'condition':<18} {'leg':<7} {'finals':>6} {'wordless':>8} {'speech s':>8} {'wordless':>9}"
        f" {worst_cols}  starts"
    )
    try:
        for line in parse_conditions(args.conditions):
            legs = {
                leg: degraded_pcm(audio.samples[i], rate, line, bank, seed=args.call)
                for i, leg in enumerate(LEGS)
            }
            seed_dither(0)
            finals = asyncio.run(transcribe_legs(pool, settings, legs))
            for leg in LEGS:
                print(leg_line(line.name, leg, [f for f in finals if f.leg is leg], windows, health))
    finally:
        pool.close()


if __name__ == "__main__":
    main()
