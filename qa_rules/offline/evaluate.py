"""``agent-monitor eval rules``: abusive-wording figures on the held-out (test) parts of the sets.

Per set (:mod:`qa_rules.offline.datasets`; by default the ``test`` part, which training never reads):

* **rules only**: an agent-leg pattern rule of an abuse category (profanity, insult, threat,
  contempt) fires;
* **classifier only**: the agent-leg abusive-tone model's probability is at or over its threshold;
* **rules + classifier**: the engine as shipped (``RuleSet.check`` on the agent leg, classifier
  context included: it defers to pattern hits and drops negated or reported evidence);
* **alt-profanity-check** (English; the PyPI peer, a linear SVM shipped in its wheel, installed
  by the ``eval`` extra) at its default 0.5 and at 0.3;
* two substring baselines: every term of the packs' abuse lists, and a public word list.

Each line gives the counts, precision, recall and false-positive rate at the operating point. For
systems with a score (classifier, peer, rules + classifier scored as 1 when a rule fires, else the
probability) it adds a precision-recall summary over all thresholds: average precision and the
best recall at a false-positive rate of at most 1% and 5% (thresholds read off the curve of that
same set, so these columns describe the curve, they are not operating points).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from agent_monitor.errors import DatasetError
from agent_monitor.model.audio import Leg
from qa_rules.classifier import AbuseModel
from qa_rules.engine import RuleSet
from qa_rules.offline.datasets import DATASETS, Example, load
from qa_rules.offline.train import rule_flags
from qa_rules.packs import ABUSE_CATEGORIES
from qa_rules.text import prepare

DEFAULT_SETS = ("cold", "olid", "collection", "swsr", "davidson")


@dataclass(frozen=True, slots=True)
class Curve:
    """Threshold-free summary of a scored system on one set."""

    average_precision: float
    recall_at_fpr_01: float
    recall_at_fpr_05: float


@dataclass(frozen=True, slots=True)
class Score:
    """Confusion counts at the operating point, and the curve summary where there is a score."""

    dataset: str
    system: str
    tp: int
    fp: int
    fn: int
    tn: int
    curve: Curve | None = None

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def fpr(self) -> float:
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else 0.0


def score(
    dataset: str,
    system: str,
    examples: Sequence[Example],
    predicted: Iterable[bool],
    scores: Sequence[float] | None = None,
) -> Score:
    """Confusion counts of ``predicted`` (one flag per example), and the curve of ``scores``."""
    tp = fp = fn = tn = 0
    for ex, hit in zip(examples, predicted, strict=True):
        if ex.positive:
            tp += hit
            fn += not hit
        else:
            fp += hit
            tn += not hit
    curve = None if scores is None else pr_curve([e.positive for e in examples], scores)
    return Score(dataset, system, tp, fp, fn, tn, curve)


def pr_curve(labels: Sequence[bool], scores: Sequence[float]) -> Curve:
    """Average precision (step-wise, as scikit-learn) and recall at FPR <= 1% and <= 5%."""
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = sorted(s for s, y in zip(scores, labels, strict=True) if not y)
    if not pos or not neg:
        raise DatasetError("a curve needs positive and negative rows")
    ranked = sorted(zip(scores, labels, strict=True), key=lambda p: -p[0])
    ap = _average_precision(ranked, len(pos))
    return Curve(ap, _recall_at(pos, neg, 0.01), _recall_at(pos, neg, 0.05))


def _average_precision(ranked: list[tuple[float, bool]], n_pos: int) -> float:
    ap = prev_recall = 0.0
    tp = 0
    i = 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            tp += ranked[j][1]
            j += 1
        recall = tp / n_pos
        ap += (recall - prev_recall) * (tp / j)
        prev_recall = recall
        i = j
    return ap


def _recall_at(pos: list[float], neg_sorted: list[float], max_fpr: float) -> float:
    """Best recall of ``score > t`` over thresholds t with at most ``max_fpr`` negatives above."""
    allowed = int(max_fpr * len(neg_sorted))
    thr = neg_sorted[len(neg_sorted) - allowed - 1]  # flag strictly above this negative's score
    over = sum(p > thr for p in pos)
    return over / len(pos)


def agent_model(ruleset: RuleSet, lang: str) -> tuple[AbuseModel, float] | None:
    """The agent-leg abusive-tone model of ``lang`` and its operating threshold, if any."""
    for rule in ruleset.matcher(lang, Leg.AGENT).model_rules:
        model = ruleset.models[rule.model or ""]
        threshold = rule.threshold if rule.threshold is not None else model.threshold
        if threshold is not None:
            return model, threshold
    return None


def engine_flags(ruleset: RuleSet, text: str, lang: str) -> bool:
    """Does the engine flag ``text`` on the agent leg as abusive wording (any abuse category)?"""
    return any(h.category in ABUSE_CATEGORIES for h in ruleset.check(text, lang, Leg.AGENT))


def evaluate_set(ruleset: RuleSet, data_dir: Path, name: str, part: str, peer: bool) -> list[Score]:
    """Every system's score on one set."""
    lang = DATASETS[name].lang
    examples = load(name, data_dir, part)
    if not any(e.positive for e in examples) or all(e.positive for e in examples):
        raise DatasetError(f"{name}: needs both positive and negative rows")
    label = f"{name}/{part}"
    rules = rule_flags(ruleset, [e.text for e in examples], lang)
    out = [score(label, "rules only", examples, rules)]
    found = agent_model(ruleset, lang)
    if found is not None:
        model, thr = found
        texts = [prepare(e.text, lang).match for e in examples]
        probs = [model.score(t).probability if model.long_enough(t) else 0.0 for t in texts]
        out.append(
            score(label, f"classifier only (p>={thr:.2f})", examples, [p >= thr for p in probs], probs)
        )
        both = [engine_flags(ruleset, e.text, lang) for e in examples]
        combined = [1.0 if r else p for r, p in zip(rules, probs, strict=True)]
        out.append(score(label, "rules + classifier", examples, both, combined))
    if peer and lang == "en":
        out.extend(peer_scores(label, examples))
    naive = substring_predictor(pack_lexicon(ruleset, lang), lang)
    out.append(score(label, "substring: pack lexicon", examples, [naive(e.text) for e in examples]))
    words_label, words = public_lexicon(data_dir, lang)
    public = substring_predictor(words, lang)
    out.append(score(label, words_label, examples, [public(e.text) for e in examples]))
    return out


def peer_scores(label: str, examples: Sequence[Example]) -> list[Score]:
    """alt-profanity-check at 0.5 (its default) and 0.3; raises if the eval extra is missing."""
    try:
        from profanity_check import predict_prob
    except ImportError as exc:
        raise DatasetError(
            f"alt-profanity-check is not installed ({exc}); install the eval extra: pip install -e '.[eval]'"
        ) from None
    probs = [float(p) for p in predict_prob([e.text for e in examples])]
    return [
        score(label, f"alt-profanity-check p>={t}", examples, [p >= t for p in probs], probs)
        for t in (0.5, 0.3)
    ]


def evaluate(
    ruleset: RuleSet,
    data_dir: Path,
    datasets: Iterable[str] = DEFAULT_SETS,
    part: str = "test",
    peer: bool = True,
) -> list[Score]:
    """Scores of the engine, its parts, the peer and the baselines on every set."""
    if not data_dir.is_dir():
        raise DatasetError(f"{data_dir}: evaluation data folder not found")
    scores: list[Score] = []
    for name in datasets:
        if name not in DATASETS:
            raise DatasetError(f"unknown dataset {name!r} (known: {', '.join(DATASETS)})")
        scores.extend(evaluate_set(ruleset, data_dir, name, part, peer))
    return scores


def pack_lexicon(ruleset: RuleSet, lang: str) -> list[str]:
    """Every term of the lists used by abuse rules of ``lang`` (the naive baseline's word list)."""
    terms: set[str] = set()
    for pack in ruleset.packs:
        if not any(r.category in ABUSE_CATEGORIES and lang in r.languages for r in pack.rules):
            continue
        for tl in pack.lists.values():
            terms.update(t.replace("_", " ").rstrip("*").lower() for t in tl.terms)
    return sorted(t for t in terms if t)


def public_lexicon(data_dir: Path, lang: str) -> tuple[str, list[str]]:
    """A public word list from the data folder: SexHateLex (zh) or Davidson's n-gram list (en)."""
    if lang == "zh":
        path = data_dir / "text" / "zh" / "swsr" / "SexHateLex.txt"
        if not path.is_file():
            raise DatasetError(f"{path}: word list not found")
        words = path.read_text(encoding="utf-8").split()
        return "substring: SexHateLex", [w.lower() for w in words if w.strip()]
    path = data_dir / "text" / "en" / "davidson" / "refined_ngram_dict.csv"
    if not path.is_file():
        raise DatasetError(f"{path}: word list not found")
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    return "substring: Davidson n-grams", [ln.split(",")[0].strip().lower() for ln in lines if ln.strip()]


def substring_predictor(terms: list[str], lang: str) -> Callable[[str], bool]:
    if lang == "en":
        terms = [t for t in terms if len(t) >= 2]
    pattern = re.compile("|".join(re.escape(t) for t in sorted(set(terms), key=len, reverse=True)))
    return lambda text: pattern.search(text.lower()) is not None


def format_table(scores: list[Score]) -> str:
    """A plain-text table: set, system, counts, precision, recall, FPR, curve summary."""
    head = (
        f"{'set':20} {'system':30} {'pos':>4} {'neg':>5} {'TP':>4} {'FP':>4} "
        f"{'prec':>5} {'recall':>6} {'FPR':>6} | {'AP':>5} {'R@1%':>5} {'R@5%':>5}"
    )
    lines = [head, "-" * len(head)]
    for s in scores:
        c = s.curve
        tail = (
            f"{c.average_precision:>5.3f} {c.recall_at_fpr_01:>5.3f} {c.recall_at_fpr_05:>5.3f}" if c else ""
        )
        lines.append(
            f"{s.dataset:20} {s.system:30} {s.tp + s.fn:>4} {s.fp + s.tn:>5} {s.tp:>4} {s.fp:>4} "
            f"{s.precision:>5.3f} {s.recall:>6.3f} {s.fpr:>6.3f} | {tail}"
        )
    return "\n".join(lines)
