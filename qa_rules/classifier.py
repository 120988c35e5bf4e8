"""A small abuse classifier kept behind the rule interface: n-gram logistic regression.

The model is trained offline (``python -m qa_rules.train``) and stored as JSON: the intercept and,
per n-gram, its coefficient and idf. No pickles, nothing downloaded at run time. Scoring
reproduces scikit-learn's ``TfidfVectorizer(binary=True, norm="l2")`` followed by
``LogisticRegression`` exactly, in plain Python (a few microseconds per utterance).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from agent_monitor.errors import RuleModelError

FORMAT = "agent-monitor/abuse-logreg"


def features(text: str, spec: dict[str, list[int]]) -> set[str]:
    """The n-gram features of a prepared match string.

    ``spec`` maps ``char`` and/or ``word`` to ``[min_n, max_n]``. Character n-grams are taken
    within each space-separated chunk padded with spaces; word n-grams over the tokens.
    """
    out: set[str] = set()
    char = spec.get("char")
    if char:
        lo, hi = char
        for chunk in text.split(" "):
            if not chunk:
                continue
            padded = f" {chunk} " if spec.get("word") else chunk
            n_chars = len(padded)
            for n in range(lo, hi + 1):
                for i in range(n_chars - n + 1):
                    out.add(padded[i : i + n])
    word = spec.get("word")
    if word:
        lo, hi = word
        toks = text.split(" ")
        for n in range(lo, hi + 1):
            for i in range(len(toks) - n + 1):
                out.add("w:" + " ".join(toks[i : i + n]))
    out.discard(" ")
    return out


@dataclass(frozen=True, slots=True)
class Score:
    """A model's verdict on one text."""

    probability: float
    cues: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AbuseModel:
    """A loaded abuse model."""

    name: str
    version: str
    lang: str
    spec: dict[str, list[int]]
    intercept: float
    weights: dict[str, tuple[float, float]]
    description: str
    path: str
    #: the evaluation dataset the model was fitted on ("" if unknown)
    dataset: str = ""

    def score(self, match_text: str) -> Score:
        present = features(match_text, self.spec)
        weights = self.weights
        total = 0.0
        norm = 0.0
        contributions: list[tuple[float, str]] = []
        for feat in present:
            entry = weights.get(feat)
            if entry is None:
                continue
            coef, idf = entry
            total += coef * idf
            norm += idf * idf
            if coef > 0:
                contributions.append((coef * idf, feat))
        z = self.intercept + (total / math.sqrt(norm) if norm else 0.0)
        prob = 1.0 / (1.0 + math.exp(-z)) if z > -500 else 0.0
        contributions.sort(reverse=True)
        cues = tuple(f.removeprefix("w:").strip() for _, f in contributions[:3])
        return Score(prob, cues)


def load_model(path: Path) -> AbuseModel:
    """Load and validate a model file; raises :class:`RuleModelError` naming the problem."""
    src = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RuleModelError(src, "model file not found (train it with: python -m qa_rules.train)") from None
    except (OSError, ValueError) as exc:
        raise RuleModelError(src, f"cannot read model: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise RuleModelError(src, f"not an {FORMAT} file", field="format")
    try:
        spec = {k: [int(v[0]), int(v[1])] for k, v in data["features"].items()}
        weights = {str(k): (float(v[0]), float(v[1])) for k, v in data["weights"].items()}
        model = AbuseModel(
            name=str(data["name"]),
            version=str(data["version"]),
            lang=str(data["lang"]),
            spec=spec,
            intercept=float(data["intercept"]),
            weights=weights,
            description=str(data.get("description", "")),
            path=src,
            dataset=str(data.get("dataset", "")),
        )
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise RuleModelError(src, f"malformed model: {exc!r}") from exc
    if set(spec) - {"char", "word"} or not spec:
        raise RuleModelError(src, "features must name char and/or word n-gram ranges", field="features")
    return model
