"""Throughput of ``rules check``: utterances per second on one core.

    python benchmarks/bench_rules.py [--seconds 3]

Utterances: the labeled collection-dialogue lines tracked in tests/qa_rules/data plus the text rows
of the evaluation data (COLD, OLID, collection dialogues; read from settings.eval_data_dir, nothing
copied), each checked
with the full shipped rule set for its language (agent leg, model rule included), the way
``agent-monitor rules check`` does. One process, one thread = one core. The first pass (jieba
initialisation, caches) is excluded; repeated texts hit the per-text jieba cache, so the corpus is
cycled with a varying suffix to keep caches honest. A second line per language times the abusive-tone
classifier alone (n-gram extraction and scoring of a prepared text): microseconds per utterance.
A third line times the live path for the agent leg: each text as a final transcript through a
``LegChecker`` (rules, must-say wording, verifying wording, call facts), finals per second per core.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from agent_monitor.model.audio import Leg  # noqa: E402
from agent_monitor.model.transcript import Transcript  # noqa: E402
from agent_monitor.settings import load_settings  # noqa: E402
from qa_rules.classifier import AbuseModel  # noqa: E402
from qa_rules.engine import load_rules_from_settings  # noqa: E402
from qa_rules.live import LiveRules  # noqa: E402
from qa_rules.offline.datasets import load  # noqa: E402
from qa_rules.text import prepare  # noqa: E402


def corpus(eval_dir: Path) -> dict[str, list[str]]:
    lines = [
        line
        for line in (ROOT / "tests" / "qa_rules" / "data" / "collection_dialogue.tsv")
        .read_text("utf-8")
        .splitlines()
        if line and not line.startswith("#")
    ]
    texts: dict[str, list[str]] = {"en": [], "zh": []}
    for row in csv.DictReader(lines, delimiter="\t"):
        texts[row["lang"]].append(row["text"])
    texts["zh"].extend(e.text for e in load("cold", eval_dir))
    texts["en"].extend(e.text for e in load("olid", eval_dir))
    texts["en"].extend(e.text for e in load("collection", eval_dir))
    return texts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time per language (default 3)")
    args = parser.parse_args()
    settings = load_settings()
    ruleset = load_rules_from_settings(settings)
    texts = corpus(settings.eval_data_dir)
    total_n = 0
    total_t = 0.0
    for lang, items in texts.items():
        matcher = ruleset.matcher(lang, Leg.AGENT)
        for text in items:  # warm-up: jieba initialisation, regex and pinyin caches
            matcher.check(text)
        chars = sum(len(t) for t in items) / len(items)
        n = 0
        rounds = 0
        start = time.process_time()
        while time.process_time() - start < args.seconds:
            suffix = f" {rounds}" if lang == "en" else f"{rounds}"
            for text in items:
                matcher.check(text + suffix)
            n += len(items)
            rounds += 1
        elapsed = time.process_time() - start
        total_n += n
        total_t += elapsed
        print(
            f"{lang}: {n / elapsed:,.0f} utterances/s per core "
            f"({n} utterances, mean {chars:.0f} characters, {len(matcher.match_rules)} pattern rules, "
            f"{len(matcher.model_rules)} model rules)"
        )
        if matcher.model_rules:
            classifier_cost(ruleset.models[matcher.model_rules[0].model or ""], items, lang, args.seconds)
        live_leg_cost(LiveRules(ruleset, settings.rules), items, lang, args.seconds)
    print(f"all: {total_n / total_t:,.0f} utterances/s per core")
    return 0


def live_leg_cost(rules: LiveRules, items: list[str], lang: str, seconds: float) -> None:
    """Time the agent leg's live checking of final transcripts (a fresh checker per pass)."""
    n = 0
    start = time.process_time()
    while time.process_time() - start < seconds:
        checker = rules.checker(lang, Leg.AGENT)
        suffix = f" {n}" if lang == "en" else f"{n}"
        for i, text in enumerate(items):
            checker.update(
                Transcript(Leg.AGENT, i, float(i), float(i) + 1.0, text + suffix, final=True, lang=lang)
            )
        n += len(items)
    elapsed = time.process_time() - start
    print(f"{lang}: live agent leg {n / elapsed:,.0f} finals/s per core ({n} finals)")


def classifier_cost(model: AbuseModel, items: list[str], lang: str, seconds: float) -> None:
    """Time the classifier alone on prepared texts (the part the model rule adds per utterance)."""
    score = model.score
    prepared = [prepare(t, lang).match for t in items]
    n = 0
    start = time.process_time()
    while time.process_time() - start < seconds:
        for text in prepared:
            score(text)
        n += len(prepared)
    elapsed = time.process_time() - start
    print(f"{lang}: classifier alone {1e6 * elapsed / n:.0f} us per utterance ({n} scored)")


if __name__ == "__main__":
    raise SystemExit(main())
