"""``agent-monitor rules lint|test|check`` and ``agent-monitor eval rules``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from agent_monitor.files import check_output, write_atomic
from agent_monitor.settings import Settings


def register(commands: Any, evals: Any) -> None:
    rules = commands.add_parser("rules", help="author and try rule packs")
    sub = rules.add_subparsers(dest="rules_command", metavar="ACTION")
    rules.set_defaults(func=lambda args, settings: _usage(rules))

    lint = sub.add_parser("lint", help="validate rule packs (files or folders) and run their examples")
    lint.add_argument("packs", nargs="+", type=Path, metavar="PACK")
    lint.set_defaults(func=_lint)

    test = sub.add_parser("test", help="run every rule's positive and negative examples")
    test.add_argument("packs", nargs="+", type=Path, metavar="PACK")
    test.set_defaults(func=_test)

    check = sub.add_parser(
        "check",
        help="check utterances from stdin (one per line), print JSON lines; a hit of a rule that "
        "waits for a fact of the call (EN-3P-2 after a wrong number) carries it as 'after'",
    )
    check.add_argument("--lang", choices=["en", "zh"], required=True)
    check.add_argument("--leg", choices=["agent", "debtor"], help="only rules for this leg (default: all)")
    check.add_argument("--packs", nargs="+", type=Path, metavar="PACK", help="default: settings.rules.packs")
    check.set_defaults(func=_check)

    train = sub.add_parser("train", help="train the abusive-tone classifier (models/abuse/abuse-LANG.json)")
    train.add_argument("--lang", choices=["en", "zh"], required=True)
    train.add_argument("--data", type=Path, help="evaluation data folder (default: settings.eval_data_dir)")
    train.add_argument("--out", type=Path, help="default: settings.rules.model_dir/abuse-LANG.json")
    train.add_argument("--packs", nargs="+", type=Path, metavar="PACK", help="default: settings.rules.packs")
    train.add_argument("--jobs", type=int, default=1, help="worker processes for the cross-validation")
    train.set_defaults(func=_train)

    ev = evals.add_parser(
        "rules", help="abusive wording: rules, classifier, both and peers on held-out parts"
    )
    _data_options(ev)
    ev.add_argument(
        "--sets", nargs="+", metavar="SET", help="cold olid collection swsr davidson (default: all)"
    )
    ev.add_argument("--no-peer", action="store_true", help="skip alt-profanity-check (the eval extra)")
    ev.add_argument(
        "--cross-corpus", action="store_true", help="also train on each set and test on the others (slow)"
    )
    ev.set_defaults(func=_eval)

    verify = evals.add_parser(
        "verify", help="account details before verification, and wrong parties, on the collection dialogues"
    )
    _data_options(verify)
    verify.set_defaults(func=_eval_verify)


def _data_options(parser: argparse.ArgumentParser) -> None:
    """The data folder, the packs and the part an evaluation of the rules reads."""
    parser.add_argument(
        "dir", nargs="?", type=Path, metavar="DIR", help="data folder (default: settings.eval_data_dir)"
    )
    parser.add_argument("--packs", nargs="+", type=Path, metavar="PACK", help="default: settings.rules.packs")
    parser.add_argument(
        "--part", choices=["test", "dev", "all"], default="test", help="default: test (held out)"
    )


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _load(paths: list[Path] | None, settings: Settings) -> Any:
    from qa_rules.engine import load_rules

    cfg = settings.rules
    return load_rules(paths or cfg.packs, model_dir=cfg.model_dir, must_say_window_s=cfg.must_say_window_s)


def _lint(args: argparse.Namespace, settings: Settings) -> int:
    """Each file loaded, then all together with their models (duplicate ids across files, models),
    then every rule's examples run: a pack whose examples fail does not lint."""
    from qa_rules.engine import load_rules
    from qa_rules.examples import run_examples
    from qa_rules.offline.selftest import report
    from qa_rules.packs import load_pack, pack_files

    files = pack_files(args.packs)
    for path in files:
        pack = load_pack(path)
        print(f"ok {path}: pack {pack.name} {pack.version}, {len(pack.rules)} rules")
    results = run_examples(load_rules(files, model_dir=settings.rules.model_dir))
    print("\n".join(report(results)))
    return 0 if all(r.ok for r in results) else 1


def _test(args: argparse.Namespace, settings: Settings) -> int:
    from qa_rules.examples import run_examples
    from qa_rules.offline.selftest import report

    results = run_examples(_load(args.packs, settings))
    print("\n".join(report(results)))
    return 0 if all(r.ok for r in results) else 1


def _check(args: argparse.Namespace, settings: Settings) -> int:
    from agent_monitor.model.audio import Leg

    ruleset = _load(args.packs, settings)
    matcher = ruleset.matcher(args.lang, Leg(args.leg) if args.leg else None)
    out = sys.stdout
    for line in sys.stdin:
        text = line.rstrip("\r\n")
        hits: list[dict[str, Any]] = []
        for h in matcher.check(text):
            hit: dict[str, Any] = {
                "rule": h.rule,
                "category": h.category,
                "severity": h.severity.value,
                "span": list(h.span or (0, 0)),
            }
            if h.probability is not None:  # a classifier ("abusive tone") hit
                hit["probability"] = h.probability
                hit["evidence"] = h.evidence
            if h.after:  # tried as if the fact had been said: in a call only once it has been
                hit["after"] = h.after
            hits.append(hit)
        out.write(json.dumps({"text": text, "hits": hits}, ensure_ascii=False) + "\n")
        out.flush()
    return 0


def _train(args: argparse.Namespace, settings: Settings) -> int:
    from qa_rules.engine import load_rules
    from qa_rules.offline.train import train

    cfg = settings.rules
    patterns = load_rules(args.packs or cfg.packs, with_models=False)
    out = args.out or cfg.model_dir / f"abuse-{args.lang}.json"
    check_output(out, "--out")
    doc = train(args.lang, args.data or settings.eval_data_dir, patterns, max(1, args.jobs))
    write_atomic(out, json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n")
    n_features = sum(len(view["weights"]) for view in doc.get("views", [doc]))
    print(f"wrote {out} ({out.stat().st_size // 1024} KiB, {n_features} features)")
    cv = doc["cross_validation"]
    caps = ", ".join(f"{k} {v}" for k, v in cv["max_fpr"].items())
    print(
        f"threshold {doc['threshold']}: rules + model false-positive rate at most {caps} "
        f"({cv['folds']}-fold CV on dev, mean over {cv['fold_seeds']} fold seeds)"
    )
    for name, rates in cv["rules_plus_model_at_threshold"].items():
        print(
            f"  dev {name:18} recall {rates['recall']:.3f}  FPR {rates['fpr']:.3f}"
            f" (one seed: {rates['fpr_min']:.3f}-{rates['fpr_max']:.3f})"
        )
    return 0


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    from qa_rules.offline.crosscorpus import cross_corpus, format_cross
    from qa_rules.offline.datasets import DATASETS
    from qa_rules.offline.evaluate import DEFAULT_SETS, evaluate, format_table

    data_dir = args.dir or settings.eval_data_dir
    ruleset = _load(args.packs, settings)
    sets = args.sets or DEFAULT_SETS
    print(format_table(evaluate(ruleset, data_dir, sets, args.part, not args.no_peer)))
    if args.cross_corpus:
        # the languages of the chosen sets (``--sets cold swsr --cross-corpus``: Chinese only)
        for lang in [lang for lang in ("en", "zh") if any(DATASETS[s].lang == lang for s in sets)]:
            print()
            print(format_cross(lang, cross_corpus(lang, data_dir)))
    return 0


def _eval_verify(args: argparse.Namespace, settings: Settings) -> int:
    from qa_rules.offline.verify_first import evaluate_verify, format_verify

    ruleset = _load(args.packs, settings)
    print(format_verify(evaluate_verify(ruleset, args.dir or settings.eval_data_dir, args.part)))
    return 0
