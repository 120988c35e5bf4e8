"""``agent-monitor rules lint|test|check`` and ``agent-monitor eval rules``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from agent_monitor.settings import Settings


def register(commands: Any, evals: Any) -> None:
    rules = commands.add_parser("rules", help="author and try rule packs")
    sub = rules.add_subparsers(dest="rules_command", metavar="ACTION")
    rules.set_defaults(func=lambda args, settings: _usage(rules))

    lint = sub.add_parser("lint", help="validate rule packs (files or folders)")
    lint.add_argument("packs", nargs="+", type=Path, metavar="PACK")
    lint.set_defaults(func=_lint)

    test = sub.add_parser("test", help="run every rule's positive and negative examples")
    test.add_argument("packs", nargs="+", type=Path, metavar="PACK")
    test.set_defaults(func=_test)

    check = sub.add_parser("check", help="check utterances from stdin (one per line), print JSON lines")
    check.add_argument("--lang", choices=["en", "zh"], required=True)
    check.add_argument("--leg", choices=["agent", "debtor"], help="only rules for this leg (default: all)")
    check.add_argument("--packs", nargs="+", type=Path, metavar="PACK", help="default: settings.rules.packs")
    check.set_defaults(func=_check)

    ev = evals.add_parser("rules", help="abusive-wording precision/recall/FPR vs a substring baseline")
    ev.add_argument(
        "dir", nargs="?", type=Path, metavar="DIR", help="data folder (default: settings.eval_data_dir)"
    )
    ev.add_argument("--packs", nargs="+", type=Path, metavar="PACK", help="default: settings.rules.packs")
    ev.set_defaults(func=_eval)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _load(paths: list[Path] | None, settings: Settings) -> Any:
    from qa_rules.engine import load_rules

    cfg = settings.rules
    return load_rules(paths or cfg.packs, model_dir=cfg.model_dir, must_say_window_s=cfg.must_say_window_s)


def _lint(args: argparse.Namespace, settings: Settings) -> int:
    from qa_rules.engine import load_rules
    from qa_rules.packs import load_pack, pack_files

    files = pack_files(args.packs)
    for path in files:
        pack = load_pack(path)
        print(f"ok {path}: pack {pack.name} {pack.version}, {len(pack.rules)} rules")
    load_rules(files, model_dir=settings.rules.model_dir)  # cross-pack checks: duplicate ids, models
    return 0


def _test(args: argparse.Namespace, settings: Settings) -> int:
    from qa_rules.selftest import run_examples

    results = run_examples(_load(args.packs, settings))
    failed = [r for r in results if not r.ok]
    for r in failed:
        want = "should fire" if r.expected else "should not fire"
        print(f"FAIL {r.source}: {r.rule} [{r.lang}] {want}: {r.text}")
    print(f"{len(results)} examples, {len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def _check(args: argparse.Namespace, settings: Settings) -> int:
    from agent_monitor.model.audio import Leg

    ruleset = _load(args.packs, settings)
    matcher = ruleset.matcher(args.lang, Leg(args.leg) if args.leg else None)
    out = sys.stdout
    for line in sys.stdin:
        text = line.rstrip("\r\n")
        hits = [
            {
                "rule": h.rule,
                "category": h.category,
                "severity": h.severity.value,
                "span": list(h.span or (0, 0)),
            }
            for h in matcher.check(text)
        ]
        out.write(json.dumps({"text": text, "hits": hits}, ensure_ascii=False) + "\n")
        out.flush()
    return 0


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    from qa_rules.evaluate import evaluate, format_table

    data_dir = args.dir or settings.eval_data_dir
    print(format_table(evaluate(_load(args.packs, settings), data_dir)))
    return 0
