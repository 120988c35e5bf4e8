"""The live evaluation end to end: choose dialogues, speak them, stream them, score them."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from agent_monitor.audio.conditions import needs_noise, parse_conditions
from agent_monitor.audio.noise import NoiseBank
from agent_monitor.evaluation.live.assemble import LiveCall, assemble, plan_call
from agent_monitor.evaluation.live.dialogues import Split, choose, load_dialogues
from agent_monitor.evaluation.live.report import format_report
from agent_monitor.evaluation.live.runner import RunLog, run_calls
from agent_monitor.evaluation.live.scoring import TurnResult, score_call
from agent_monitor.evaluation.live.server import running_server
from agent_monitor.evaluation.live.tts import TtsCache
from agent_monitor.settings import Settings
from qa_rules.engine import load_rules_from_settings

DEFAULT_CONDITIONS = "mulaw,alaw,gsm,opus"


@dataclass(frozen=True, slots=True)
class LiveEvalOptions:
    data_dir: Path
    tts_cache: Path
    split: Split = "report"
    calls: int | None = None
    concurrency: int = 8
    speed: float = 1.0
    seed: int = 0
    conditions: str = DEFAULT_CONDITIONS
    max_gain_db: float = 12.0


def build_calls(options: LiveEvalOptions) -> list[LiveCall]:
    """The chosen dialogues as two-leg calls (TTS voices, placement, line and gain per call)."""
    lines = parse_conditions(options.conditions)
    noise = NoiseBank.from_data_dir(options.data_dir) if needs_noise(lines) else None
    dialogues = choose(load_dialogues(options.data_dir, options.split), options.calls, options.seed)
    tts = TtsCache(options.tts_cache)
    return [
        assemble(
            d,
            plan_call(d.call_id, options.seed, lines, options.max_gain_db),
            tts,
            seed=options.seed,
            noise=noise,
        )
        for d in dialogues
    ]


def run_live_eval(
    settings: Settings, options: LiveEvalOptions
) -> tuple[list[TurnResult], list[LiveCall], RunLog]:
    """Stream the calls through a fresh real server and score every labelled agent turn."""
    ruleset = load_rules_from_settings(settings)
    calls = build_calls(options)
    with running_server() as server:
        log = asyncio.run(run_calls(server, calls, concurrency=options.concurrency, speed=options.speed))
    results = [r for call in calls for r in score_call(call, log, ruleset, options.speed)]
    return results, calls, log


def write_turns(results: list[TurnResult], path: Path) -> None:
    """One JSON line per labelled agent turn: its text, what was heard, text and live flags."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for r in results:
            f.write(json.dumps(asdict(r)) + "\n")


def report(settings: Settings, options: LiveEvalOptions, turns_out: Path | None = None) -> str:
    results, calls, log = run_live_eval(settings, options)
    if turns_out is not None:
        write_turns(results, turns_out)
    return format_report(results, calls, log, options.concurrency, options.speed)
