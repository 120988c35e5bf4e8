"""Evaluation of the abusive-wording rules on labeled text, beside a naive substring baseline.

Datasets (paths relative to the evaluation data folder, read-only, never copied):

* ``cold`` (zh): ``text/zh/cold/cold_test_half.csv``; positive = fine-grained label 1 (attack on an
  individual); negative = labels 0 (safe) and 3 (anti-bias, a hard negative); label 2 (attack on a
  group) is left out.
* ``olid`` (en): ``text/en/olid/olid_test_half.csv``; positive = targeted insult or threat (TIN)
  aimed at an individual (IND); negative = not offensive (NOT); other rows left out.

An utterance counts as flagged when an agent-leg rule of an abuse category (profanity, insult,
threat; the abuse model rule is an insult rule) fires: FDCPA 806(2) treats profane language as
abuse of the hearer, and on a collection call profanity is said to the debtor. The baseline
flags a row when any term of the packs' abuse term lists occurs in it as a plain substring (no
segmentation, inflection, context or model), and a second baseline does the same with a public
word list from the data folder.

Where the shipped model was fitted on the dataset itself (COLD for ``abuse-zh``), its plain score
is in-sample and says little; the table then adds a "5-fold CV" row in which the model is refitted
on four fifths of the rows and scores only the held-out fifth. That row is the honest figure.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from agent_monitor.errors import DatasetError
from agent_monitor.model.audio import Leg
from qa_rules.engine import RuleSet
from qa_rules.packs import ABUSE_CATEGORIES


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    positive: bool


@dataclass(frozen=True, slots=True)
class Score:
    """Confusion counts and rates of one system on one dataset."""

    dataset: str
    system: str
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def fpr(self) -> float:
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else 0.0


_OLID_NOISE = re.compile(r"@user|\burl\b|#", re.IGNORECASE)


def clean(text: str, lang: str) -> str:
    """Drop dataset artefacts (OLID's anonymised @USER and URL tokens, hashtag signs)."""
    if lang == "en":
        return " ".join(_OLID_NOISE.sub(" ", text).split())
    return text.strip()


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise DatasetError(f"{path}: evaluation file not found")
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"{path}: cannot read: {exc}") from exc


def load_cold(data_dir: Path) -> list[Example]:
    path = data_dir / "text" / "zh" / "cold" / "cold_test_half.csv"
    out = []
    for row in _read_csv(path):
        try:
            label = row["fine-grained-label"]
            text = row["TEXT"]
        except KeyError as exc:
            raise DatasetError(f"{path}: missing column {exc}") from None
        if label in ("0", "1", "3"):
            out.append(Example(clean(text, "zh"), label == "1"))
    return out


def load_olid(data_dir: Path) -> list[Example]:
    path = data_dir / "text" / "en" / "olid" / "olid_test_half.csv"
    out = []
    for row in _read_csv(path):
        try:
            a, b, c, text = row["subtask_a"], row["subtask_b"], row["subtask_c"], row["tweet"]
        except KeyError as exc:
            raise DatasetError(f"{path}: missing column {exc}") from None
        if a == "NOT":
            out.append(Example(clean(text, "en"), False))
        elif b == "TIN" and c == "IND":
            out.append(Example(clean(text, "en"), True))
    return out


DATASETS: dict[str, tuple[str, Callable[[Path], list[Example]]]] = {
    "cold": ("zh", load_cold),
    "olid": ("en", load_olid),
}


def flags(ruleset: RuleSet, text: str, lang: str) -> bool:
    """Does the engine flag ``text`` as abusive wording (agent leg: profanity, insult, threat)?"""
    return any(h.category in ABUSE_CATEGORIES for h in ruleset.check(text, lang, Leg.AGENT))


def pattern_flags(ruleset: RuleSet, text: str, lang: str) -> bool:
    """Like :func:`flags`, counting pattern rules only (no model rule)."""
    matcher = ruleset.matcher(lang, Leg.AGENT)
    _, found = matcher.find(text)
    return any(f.rule.category in ABUSE_CATEGORIES and f.rule.kind == "match" for f in found)


def cross_validated(
    ruleset: RuleSet, dataset: str, examples: list[Example], lang: str, pattern_hits: list[bool]
) -> Score | None:
    """Rules + model with the model refitted on 4/5 of the rows and scored on the held-out fifth.

    Only for a dataset the shipped model was fitted on, where the plain score is in-sample.
    """
    model_rules = [
        r
        for r in ruleset.matcher(lang, Leg.AGENT).model_rules
        if ruleset.models[r.model or ""].dataset == dataset
    ]
    if not model_rules:
        return None
    from qa_rules.text import prepare
    from qa_rules.train import fit, folds, model_from

    rule = model_rules[0]
    texts = [prepare(e.text, lang).match for e in examples]
    labels = [int(e.positive) for e in examples]
    predicted = list(pattern_hits)
    for train_idx, test_idx in folds(labels):
        model = model_from(fit([texts[i] for i in train_idx], [labels[i] for i in train_idx], lang), lang)
        for i in test_idx:
            if model.score(texts[i]).probability >= (rule.threshold or 1.0):
                predicted[i] = True
    return score(dataset, "rules + model, 5-fold CV", examples, predicted)


def score(dataset: str, system: str, examples: Iterable[Example], predicted: Iterable[bool]) -> Score:
    """Confusion counts of ``predicted`` (one flag per example) against the labels."""
    tp = fp = fn = tn = 0
    for ex, hit in zip(examples, predicted, strict=True):
        if ex.positive:
            tp += hit
            fn += not hit
        else:
            fp += hit
            tn += not hit
    return Score(dataset, system, tp, fp, fn, tn)


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
    rows = _read_csv(path)
    return "substring: Davidson n-grams", [r["ngram"].lower() for r in rows if r.get("ngram")]


def substring_predictor(terms: list[str], lang: str) -> Callable[[str], bool]:
    if lang == "en":
        terms = [t for t in terms if len(t) >= 2]
    pattern = re.compile("|".join(re.escape(t) for t in sorted(set(terms), key=len, reverse=True)))
    return lambda text: pattern.search(text.lower()) is not None


def evaluate(ruleset: RuleSet, data_dir: Path, datasets: Iterable[str] = ("cold", "olid")) -> list[Score]:
    """Scores of the engine and both baselines on every dataset."""
    if not data_dir.is_dir():
        raise DatasetError(f"{data_dir}: evaluation data folder not found")
    scores: list[Score] = []
    for name in datasets:
        if name not in DATASETS:
            raise DatasetError(f"unknown dataset {name!r} (known: {', '.join(DATASETS)})")
        lang, loader = DATASETS[name]
        examples = loader(data_dir)
        if not any(e.positive for e in examples) or all(e.positive for e in examples):
            raise DatasetError(f"{name}: needs both positive and negative rows")
        pattern_hits = [pattern_flags(ruleset, e.text, lang) for e in examples]
        scores.append(score(name, "rules only", examples, pattern_hits))
        in_sample = any(m.dataset == name and m.lang == lang for m in ruleset.models.values())
        label = "rules + model (in-sample)" if in_sample else "rules + model"
        scores.append(score(name, label, examples, [flags(ruleset, e.text, lang) for e in examples]))
        cv = cross_validated(ruleset, name, examples, lang, pattern_hits)
        if cv is not None:
            scores.append(cv)
        naive = substring_predictor(pack_lexicon(ruleset, lang), lang)
        scores.append(score(name, "substring: pack lexicon", examples, [naive(e.text) for e in examples]))
        label, words = public_lexicon(data_dir, lang)
        public = substring_predictor(words, lang)
        scores.append(score(name, label, examples, [public(e.text) for e in examples]))
    return scores


def format_table(scores: list[Score]) -> str:
    """A plain-text table: dataset, system, counts, precision, recall, false-positive rate."""
    head = (
        f"{'dataset':8} {'system':31} {'pos':>4} {'neg':>5} {'TP':>4} {'FP':>4} "
        f"{'precision':>9} {'recall':>6} {'FPR':>6}"
    )
    lines = [head, "-" * len(head)]
    for s in scores:
        lines.append(
            f"{s.dataset:8} {s.system:31} {s.tp + s.fn:>4} {s.fp + s.tn:>5} {s.tp:>4} {s.fp:>4} "
            f"{s.precision:>9.3f} {s.recall:>6.3f} {s.fpr:>6.3f}"
        )
    return "\n".join(lines)
