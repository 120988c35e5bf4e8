"""``agent-monitor stress score|train`` and ``agent-monitor eval stress``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from agent_monitor.errors import AgentMonitorError, StressError
from agent_monitor.files import check_output, write_atomic
from agent_monitor.settings import Settings

MODEL_VERSION_NAME = "v8"
_JOBS_ARG: dict[str, Any] = {
    "type": int,
    "help": "worker processes measuring the clips (default: one per processor; the same figures)",
}
_PART_ARG: dict[str, Any] = {
    "choices": ("all", "tuning", "reporting"),
    "default": "all",
    "help": "speakers: all (default), the tuning part design choices are made on, or the reporting "
    "part scored once at the end (emotion/offline/protocol.py)",
}


def register(commands: Any, evals: Any) -> None:
    p = commands.add_parser("stress", help="acoustic stress score of recorded speech")
    sub = p.add_subparsers(dest="stress_command", metavar="ACTION")
    p.set_defaults(func=lambda args, settings: _usage(p))

    s = sub.add_parser("score", help="score files: stress 0-100 and level (mono mix of all channels)")
    s.add_argument("files", nargs="+", type=Path, metavar="FILE")
    s.add_argument("--baseline", type=Path, metavar="FILE", help="calm speech of the same speaker")
    s.add_argument("--json", action="store_true", help="one JSON object per file, with the timeline")
    s.add_argument("--model", type=Path, help="model file (default: settings stress.model_file)")
    s.set_defaults(func=run_score)

    t = sub.add_parser("train", help="train the stress model (leave-speaker-out CV) and write its report")
    t.add_argument(
        "data", nargs="?", type=Path, metavar="DIR", help="emotion data (default: <eval_data_dir>/emotion)"
    )
    t.add_argument("--output", type=Path, help="model file to write (default: settings stress.model_file)")
    t.add_argument("--part", **_PART_ARG)
    t.add_argument("--jobs", **_JOBS_ARG)
    t.set_defaults(func=run_train)

    e = evals.add_parser(
        "stress", help="AUC/UA high vs low arousal, held-out speakers, with/without baseline"
    )
    e.add_argument("dir", type=Path, metavar="DIR", help="corpus folder with labels.csv, or a folder of them")
    e.add_argument("--model", type=Path, help="model file (default: settings stress.model_file)")
    e.add_argument(
        "--train-data", type=Path, help="the model's training data (default: <eval_data_dir>/emotion)"
    )
    e.add_argument(
        "--conditions",
        default="clean,mulaw",
        metavar="LIST",
        help="line conditions: 'all' or names separated by commas (default: clean,mulaw); "
        "a name may compose parts with + (gsm+gain-30, mulaw+line-snr15+loss5); "
        "see agent_monitor/audio/conditions.py",
    )
    e.add_argument("--part", **_PART_ARG)
    e.add_argument("--jobs", **_JOBS_ARG)
    e.add_argument("--json", action="store_true", help="print the figures as JSON")
    e.set_defaults(func=run_eval)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def run_score(args: argparse.Namespace, settings: Settings) -> int:
    from emotion.baseline import SpeakerBaseline
    from emotion.levels import check_thresholds, level_for_score
    from emotion.model import load_model
    from emotion.offline.dataset import read_audio
    from emotion.tracker import clip_features, score_clip

    check_thresholds(settings.stress)
    model = load_model(args.model or settings.stress.model_file)
    baseline = None
    if args.baseline is not None:
        x, rate = read_audio(args.baseline)
        try:
            feats = clip_features(x, rate)
        except StressError as exc:
            raise StressError(f"{args.baseline} (baseline): {exc}") from exc
        baseline = SpeakerBaseline.from_windows([feats], settings.stress.baseline_update_s)
    failed = 0
    for path in args.files:
        try:
            x, rate = read_audio(path)
            try:
                score, _, timeline = score_clip(x, rate, settings.stress, model, baseline)
            except StressError as exc:
                raise StressError(f"{path}: {exc}") from exc
        except AgentMonitorError as exc:
            failed += 1
            print(f"agent-monitor: error: {exc}", file=sys.stderr)
            continue
        level = level_for_score(score, settings.stress)
        if args.json:
            record = {
                "file": str(path),
                "score": round(score, 1),
                "level": level.value,
                "timeline": [{"t": s.t, "score": s.score} for s in timeline],
            }
            print(json.dumps(record, ensure_ascii=False))
        else:
            mode = f"relative to {args.baseline}" if baseline is not None else "absolute, no baseline"
            print(f"{path}: stress {score:5.1f}  {level.value:<8}  ({mode})")
        sys.stdout.flush()
    if failed:
        print(f"agent-monitor: {failed} of {len(args.files)} files failed", file=sys.stderr)
        return 1
    return 0


def _load_table(
    folder: Path, settings: Settings, conditions: list[Any], augment: int, jobs: int | None
) -> Any:
    """Clip features of every corpus under ``folder`` on each line (cached under ``data_dir``),
    measured in ``jobs`` worker processes (``None``: one per processor)."""
    from agent_monitor.audio.conditions import needs_noise
    from agent_monitor.audio.noise import NoiseBank
    from emotion.offline.cache import FeatureCache
    from emotion.offline.dataset import ClipTable, default_jobs, find_corpora, load_clips, measure_clips

    noise = NoiseBank.from_data_dir(settings.eval_data_dir) if augment or needs_noise(conditions) else None
    cache = FeatureCache(settings.data_dir / "cache" / "stress-features")
    workers = default_jobs() if jobs is None else max(1, jobs)
    return ClipTable.concat(
        [
            measure_clips(load_clips(c), conditions, augment, noise, cache, workers)
            for c in find_corpora(folder)
        ]
    )


def run_train(args: argparse.Namespace, settings: Settings) -> int:
    from emotion.offline.dataset import CLEAN, MULAW
    from emotion.offline.protocol import select_part
    from emotion.offline.report import render_report
    from emotion.offline.training import TrainConfig, train

    data = args.data or settings.eval_data_dir / "emotion"
    output: Path = args.output or settings.stress.model_file
    check_output(output, "--output")
    check_output(output.with_name("TRAINING_REPORT.md"), "training report")
    config = TrainConfig()
    print(
        f"measuring clips in {data} (clean, 8 kHz mu-law, {config.augment} random lines) ...", file=sys.stderr
    )
    table = select_part(_load_table(data, settings, [CLEAN, MULAW], config.augment, args.jobs), args.part)
    sources = sorted({c.corpus for c in table.clips})
    result = train(table, config, sources=[f"emotion/{s}" for s in sources])
    result.model.save(output)
    report = output.with_name("TRAINING_REPORT.md")
    command = "agent-monitor stress train" + (f" {args.data}" if args.data else "")
    command += f" --part {args.part}" if args.part != "all" else ""
    write_atomic(report, render_report(result.model, MODEL_VERSION_NAME, command))
    print(f"wrote {output} and {report}")
    for row in result.cv:
        print(
            f"  {row['corpus']:<8} {row['condition']:<10} {row['mode']:<14} "
            f"n={row['n']:<4} AUC={row['auc']:.3f} UA={row['ua']:.3f}"
        )
    return 0


def run_eval(args: argparse.Namespace, settings: Settings) -> int:
    from agent_monitor.audio.conditions import parse_conditions
    from emotion.model import load_model
    from emotion.offline.dataset import CLEAN, MULAW
    from emotion.offline.evaluation import evaluate, format_table
    from emotion.offline.protocol import select_part
    from emotion.offline.training import TrainConfig

    conditions = parse_conditions(args.conditions)
    model = load_model(args.model or settings.stress.model_file)
    augment = TrainConfig.from_json(model.training["config"]).augment if "config" in model.training else 0
    train_dir: Path = args.train_data or settings.eval_data_dir / "emotion"
    same = train_dir.resolve() == args.dir.resolve()
    table = _load_table(args.dir, settings, conditions, augment if same else 0, args.jobs)
    pool = None
    if set(table.speakers.tolist()) & model.training_speakers:
        pool = table if same else _load_table(train_dir, settings, [CLEAN, MULAW], augment, args.jobs)
        # tuning never sees a reporting speaker, not even in the refits
        pool = select_part(pool, "tuning") if args.part == "tuning" else pool
    table = select_part(table, args.part)
    result = evaluate(table, model, pool, [c.name for c in conditions])
    if table.excluded:
        print(
            f"left out {2 * len(table.excluded)} clips: {len(table.excluded)} recordings filed under both "
            "a high- and a low-arousal label (see emotion/offline/duplicates.py)",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps(result.as_dict(), indent=1))
    else:
        print(format_table(result))
    return 0
