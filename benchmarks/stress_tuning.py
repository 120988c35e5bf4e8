"""Stress design choices measured on the tuning speakers only (emotion.offline.protocol).

    python benchmarks/stress_tuning.py VARIANT [VARIANT ...] [--data DIR] [--jobs N] [--conditions all]

A VARIANT names the spectral front end of each scorer, ``ABS/REL``, each ``wide`` (100-3800 Hz,
model v3), ``tel`` (the telephone band, 300-3400 Hz) or ``both``; e.g. ``wide/wide`` is model v3's
choice, ``tel/tel`` one telephone band for both scorers (the unmerged attempt "v4"), ``wide/tel``
separate front ends. Optional ``+stab`` (the absolute scorer keeps only features of line stability
>= 0.5), ``+c01`` (0.01 added to the C grid), ``+augN`` (N random training lines per speaker instead
of 4), ``+alpX`` / ``+rlpX`` (line penalty X for the absolute /
relative scorer: ``emotion.offline.line_penalty.line_metric``; none without them, as model v5). The
shipped model v8 is ``wide/tel+alp100`` (model v6's choice; v8 takes the line's noise off the
telephone front end, :data:`emotion.frames.TEL_BAND`). Every front end's features are in every feature
row (:mod:`emotion.features`), so all variants are scored on one measured table, cached where
``agent-monitor stress train`` and ``eval stress`` cache theirs (``<data_dir>/cache/stress-features``).

Only the tuning speakers are measured: per variant the model is trained (nested leave-speaker-out,
C chosen inside) and evaluated leave-speaker-out on the 10 gain and codec lines of the grid; prints
one JSON line per variant: AUC (clean, worst line) per corpus and mode, and the calm-clip shifts
(each low-arousal clip's largest no-baseline score move over those lines). The reporting speakers
are never read. ``--jobs N`` measures the clips in N processes first (fills the cache);
``--conditions all`` evaluates on every line of the grid instead (noise lines included);
``--by-line`` adds every line's AUC to each JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_monitor.audio.conditions import CONDITIONS, Condition, parse_conditions
from agent_monitor.audio.noise import NoiseBank
from agent_monitor.settings import load_settings
from emotion.offline.cache import FeatureCache
from emotion.offline.dataset import MULAW, Clip, ClipTable, find_corpora, load_clips, measure_clips
from emotion.offline.evaluation import GAIN_AND_CODEC, evaluate
from emotion.offline.protocol import TUNING_SPEAKERS
from emotion.offline.training import FRONT_ENDS, TrainConfig, scorer_features, train

GAIN_CODEC_LINES = [CONDITIONS[c] for c in GAIN_AND_CODEC if c != "mulaw"] + [MULAW]


def config_of(variant: str) -> TrainConfig:
    fronts, *opts = variant.split("+")
    absolute, relative = fronts.split("/")
    numbers = {o[:3]: o[3:] for o in opts if o[:3] in ("alp", "rlp", "aug")}  # options with a number
    if not all(v.replace(".", "", 1).isdigit() for v in numbers.values()):
        raise SystemExit(f"unknown variant {variant!r} (see the docstring)")
    known = {"stab", "c01"} | {o for o in opts if o[:3] in numbers}
    if absolute not in FRONT_ENDS or relative not in FRONT_ENDS or not set(opts) <= known:
        raise SystemExit(f"unknown variant {variant!r} (see the docstring)")
    return TrainConfig(
        line_penalty_absolute=float(numbers.get("alp", 0)),
        line_penalty_relative=float(numbers.get("rlp", 0)),
        absolute_features=scorer_features(absolute, level=False),
        relative_features=scorer_features(relative, level=True),
        min_stability_absolute=0.5 if "stab" in opts else 0.0,
        c_grid=(0.01, 0.03, 0.1, 0.3) if "c01" in opts else TrainConfig().c_grid,
        augment=int(numbers.get("aug", TrainConfig().augment)),
    )


def _measure(clips: list[Clip], lines: list[Condition], augment: int) -> ClipTable:
    settings = load_settings()
    noise = NoiseBank.from_data_dir(settings.eval_data_dir)
    cache = FeatureCache(settings.data_dir / "cache" / "stress-features")
    lines = list({c.name: c for c in [*lines, MULAW]}.values())  # training needs mu-law, once
    return measure_clips(clips, lines, augment, noise, cache)


def tuning_table(
    data: Path, jobs: int, lines: list[Condition], augment: int = TrainConfig().augment
) -> ClipTable:
    """The tuning speakers' clips on ``lines`` and ``augment`` training lines each."""
    corpora = [[c for c in load_clips(d) if c.speaker_key in TUNING_SPEAKERS] for d in find_corpora(data)]
    if jobs > 1:  # fill the cache in parallel; duplicates are found below, per whole corpus
        shards = [clips[i::jobs] for clips in corpora for i in range(jobs)]
        with ProcessPoolExecutor(jobs) as pool:
            list(pool.map(_measure, shards, [lines] * len(shards), [augment] * len(shards)))
    return ClipTable.concat([_measure(clips, lines, augment) for clips in corpora])


def run(table: ClipTable, variant: str, lines: list[Condition], by_line: bool = False) -> dict[str, object]:
    names = list(dict.fromkeys(c.name for c in lines))
    result = evaluate(table, train(table, config_of(variant)).model, table, names)
    auc: dict[str, dict[str, float]] = {}
    for r in result.rows:
        auc.setdefault(f"{r.corpus} {r.mode}", {})[r.condition] = r.auc
    worst = result.calm_worst
    out: dict[str, object] = {
        "variant": variant,
        "auc_clean_worst": {k: [round(v["clean"], 3), round(min(v.values()), 3)] for k, v in auc.items()},
        "calm": {
            "clips": len(worst),
            "median": round(float(np.median(worst)), 1),
            "p90": round(float(np.percentile(worst, 90)), 1),
            "within_10": int(np.count_nonzero(worst <= 10.0)),
        },
    }
    if by_line:
        out["auc_by_line"] = {k: {c: round(a, 3) for c, a in v.items()} for k, v in auc.items()}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("variants", nargs="+")
    parser.add_argument("--data", type=Path, help="emotion data (default: <eval_data_dir>/emotion)")
    parser.add_argument("--jobs", type=int, default=1, help="processes measuring clips (default 1)")
    parser.add_argument(
        "--conditions", help="lines: 'all' or names joined by commas (default: the 10 gain and codec lines)"
    )
    parser.add_argument("--by-line", action="store_true", help="also print every line's AUC")
    args = parser.parse_args()
    augment = max(config_of(v).augment for v in args.variants)
    lines = parse_conditions(args.conditions) if args.conditions else GAIN_CODEC_LINES
    table = tuning_table(args.data or load_settings().eval_data_dir / "emotion", args.jobs, lines, augment)
    for v in args.variants:
        print(json.dumps(run(table, v, lines, args.by_line)), flush=True)


if __name__ == "__main__":
    main()
