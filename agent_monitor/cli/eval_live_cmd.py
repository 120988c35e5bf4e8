"""``agent-monitor eval live``: labelled dialogues spoken by TTS and streamed through the real server.

See :mod:`agent_monitor.evaluation.live`. Prints recall of abusive agent turns and false alarms on
clean agent turns live next to the same turns as text, latency, and the line each call got.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from agent_monitor.settings import Settings


def register(commands: Any, evals: Any) -> None:
    ev = evals.add_parser("live", help="live recall/false alarms of TTS-spoken dialogues vs their text")
    ev.add_argument(
        "dir", nargs="?", type=Path, metavar="DIR", help="data folder (default: settings.eval_data_dir)"
    )
    ev.add_argument(
        "--split",
        choices=("report", "tune", "all"),
        default="report",
        help="which half of the dialogues (default report)",
    )
    ev.add_argument(
        "--privacy-part",
        choices=("dev", "test", "all"),
        help="instead of --split: the calls of this part of the privacy labels (eval verify's split), "
        "those labelled early disclosure first",
    )
    ev.add_argument("--calls", type=int, help="number of calls (default: every dialogue of the split)")
    ev.add_argument("--concurrency", type=int, default=8, help="calls live at once (default 8)")
    ev.add_argument("--speed", type=float, default=1.0, help="times real time (default 1.0)")
    ev.add_argument("--seed", type=int, default=0, help="seed of voices, lines, gains and call order")
    ev.add_argument(
        "--conditions",
        help="lines to draw from per call (default mulaw,alaw,gsm,opus; 'all'; "
        "parts composed with +: gsm+gain-20)",
    )
    ev.add_argument(
        "--max-gain-db", type=float, default=12.0, help="per-call gain drawn from -N..0 dB (default 12)"
    )
    ev.add_argument("--turns-out", type=Path, help="write one JSON line per labelled agent turn here")
    ev.add_argument("--tts-cache", type=Path, help="rendered turns (default: DATA_DIR/tts-cache)")
    ev.add_argument(
        "--text-only", action="store_true", help="the turns' text through the rules only (no speech)"
    )
    ev.add_argument(
        "--second-pass-ab",
        action="store_true",
        help="no server: the agent legs with the keyword second pass at the final only vs also at "
        "pauses (delay on the call clock, CPU)",
    )
    ev.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from agent_monitor.audio.conditions import MAX_ATTENUATION_DB
    from agent_monitor.errors import ConfigError
    from agent_monitor.evaluation.live.evaluate import DEFAULT_CONDITIONS, LiveEvalOptions, report

    if args.concurrency < 1 or not 0 < args.speed < math.inf or (args.calls is not None and args.calls < 1):
        raise ConfigError("--concurrency and --calls must be at least 1 and --speed a positive number")
    if not 0 <= args.max_gain_db <= MAX_ATTENUATION_DB:
        raise ConfigError(f"--max-gain-db takes 0 to {MAX_ATTENUATION_DB:g} dB (got {args.max_gain_db:g})")
    if args.turns_out is not None and (args.text_only or args.second_pass_ab):
        raise ConfigError(
            "--turns-out writes the turns of a run with speech, not of --text-only or --second-pass-ab"
        )
    if args.privacy_part is not None and args.text_only:
        raise ConfigError("--privacy-part runs speech; the text figure is `agent-monitor eval verify --part`")
    if args.text_only:
        return _text_only(args, settings)
    options = LiveEvalOptions(
        data_dir=args.dir or settings.eval_data_dir,
        tts_cache=args.tts_cache or settings.data_dir / "tts-cache",
        split=args.split,
        calls=args.calls,
        concurrency=args.concurrency,
        speed=args.speed,
        seed=args.seed,
        conditions=args.conditions or DEFAULT_CONDITIONS,
        max_gain_db=args.max_gain_db,
        privacy_part=args.privacy_part,
    )
    if args.second_pass_ab:
        return _second_pass_ab(options, settings)
    print(report(settings, options, args.turns_out))
    return 0


def _second_pass_ab(options: Any, settings: Settings) -> int:
    from agent_monitor.evaluation.live.evaluate import build_calls
    from agent_monitor.evaluation.live.second_pass import format_ab, second_pass_ab

    calls = build_calls(options)
    print(format_ab(second_pass_ab(settings, calls), calls))
    return 0


def _text_only(args: argparse.Namespace, settings: Settings) -> int:
    from agent_monitor.evaluation.live.text_only import format_text_turns, text_turns
    from qa_rules.engine import load_rules_from_settings

    ruleset = load_rules_from_settings(settings)
    data_dir = args.dir or settings.eval_data_dir
    print(format_text_turns(text_turns(ruleset, data_dir, args.split, args.calls, args.seed), args.split))
    return 0
