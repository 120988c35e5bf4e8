"""The live evaluation end to end: choose dialogues, speak them, stream them, score them."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

from agent_monitor.audio.conditions import needs_noise, parse_conditions
from agent_monitor.audio.noise import NoiseBank
from agent_monitor.errors import ConfigError
from agent_monitor.evaluation.live.assemble import LiveCall, assemble, plan_call
from agent_monitor.evaluation.live.dialogues import Split, choose, load_dialogues
from agent_monitor.evaluation.live.report import format_report
from agent_monitor.evaluation.live.runner import RunLog, run_calls
from agent_monitor.evaluation.live.scoring import TurnResult, score_call
from agent_monitor.evaluation.live.server import running_server
from agent_monitor.evaluation.live.tts import TtsCache
from agent_monitor.evaluation.live.verify import (
    PrivacyPart,
    VerifyCall,
    choose_privacy,
    format_verify_live,
    privacy_labels,
    score_verify,
)
from agent_monitor.event_loops import run
from agent_monitor.files import flush_to_disk
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
    #: run the calls of this part of the privacy labels (``--privacy-part``) instead of ``split``
    privacy_part: PrivacyPart | None = None


@dataclass(frozen=True)
class LiveRun:
    """A finished run: the labelled agent turns scored, the calls, what the server sent, and the
    privacy-labelled calls scored for the verify_first rules."""

    results: list[TurnResult]
    calls: list[LiveCall]
    log: RunLog
    verify: list[VerifyCall]


def build_calls(options: LiveEvalOptions) -> list[LiveCall]:
    """The chosen dialogues as two-leg calls (TTS voices, placement, line and gain per call)."""
    lines = parse_conditions(options.conditions)
    noise = NoiseBank.from_data_dir(options.data_dir) if needs_noise(lines) else None
    if options.privacy_part is None:
        dialogues = choose(load_dialogues(options.data_dir, options.split), options.calls, options.seed)
    else:
        labelled = privacy_labels(options.data_dir)
        if not labelled:
            raise ConfigError(f"--privacy-part: {options.data_dir} has no privacy labels")
        every = load_dialogues(options.data_dir, "all")
        dialogues = choose_privacy(every, labelled, options.privacy_part, options.calls, options.seed)
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


def run_live_eval(settings: Settings, options: LiveEvalOptions) -> LiveRun:
    """Stream the calls through a fresh real server and score every labelled agent turn, and
    every privacy-labelled call for the verify_first rules."""
    ruleset = load_rules_from_settings(settings)
    calls = build_calls(options)
    with running_server() as server:
        log = run(run_calls(server, calls, concurrency=options.concurrency, speed=options.speed))
    results = [r for call in calls for r in score_call(call, log, ruleset, options.speed)]
    verify = score_verify(calls, privacy_labels(options.data_dir), log, ruleset)
    return LiveRun(results, calls, log, verify)


class TurnsOut:
    """``--turns-out``: opened (as ``PATH.partial``) before the run, so a path that cannot be
    written is refused at once, not after the whole evaluation (``eval live --turns-out DIR`` ran
    every call, then lost the report to a traceback); :meth:`write` puts the lines in place."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.partial = path.with_name(path.name + ".partial")
        if path.is_dir():
            raise ConfigError(f"eval live: cannot write --turns-out {path} (Is a directory)")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file: IO[str] = self.partial.open("w", encoding="utf-8")
        except OSError as exc:
            said = f"{exc.strerror}: {exc.filename}" if exc.strerror and exc.filename else str(exc)
            raise ConfigError(f"eval live: cannot write --turns-out {path} ({said})") from exc

    def write(self, results: list[TurnResult]) -> None:
        """One JSON line per labelled agent turn: its text, what was heard, text and live flags."""
        for r in results:
            self._file.write(json.dumps(asdict(r)) + "\n")
        flush_to_disk(self._file)
        self._file.close()
        self.partial.replace(self.path)

    def close(self) -> None:
        """Drop the partial file of a run that did not finish (nothing after :meth:`write`)."""
        if not self._file.closed:
            self._file.close()
            self.partial.unlink(missing_ok=True)


def report(settings: Settings, options: LiveEvalOptions, turns_out: Path | None = None) -> str:
    out = TurnsOut(turns_out) if turns_out is not None else None
    try:
        live = run_live_eval(settings, options)
        if out is not None:
            out.write(live.results)
    finally:
        if out is not None:
            out.close()
    table = format_report(live.results, live.calls, live.log, options.concurrency, options.speed)
    return "\n".join([table, "", *format_verify_live(live.verify)])
