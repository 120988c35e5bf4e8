"""A small abuse classifier kept behind the rule interface: n-gram logistic regression.

The model is trained offline (``python -m qa_rules.offline.train``) and stored as JSON: the intercept and,
per n-gram, its coefficient and idf. No pickles, nothing downloaded at run time. Scoring
reproduces scikit-learn's ``TfidfVectorizer(binary=True, norm="l2")`` followed by
``LogisticRegression`` exactly, in plain Python (tens of microseconds per utterance).

A score also names its evidence: the n-grams that weighed most towards "abusive" and the character
range of the match string they cover, so a classifier hit shows which words it rests on.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from agent_monitor.errors import RuleModelError
from qa_rules.zh_lang import word_bounds

FORMAT = "agent-monitor/abuse-logreg"


def features(text: str, spec: dict[str, list[int]]) -> set[str]:
    """The n-gram features of a prepared match string.

    ``spec`` maps ``char``, ``word`` and/or ``zhword`` to ``[min_n, max_n]``. Character n-grams
    are taken within each space-separated chunk padded with spaces; word n-grams over the tokens;
    ``zhword`` n-grams over the jieba words of a Chinese match string (prefixed ``j:``).
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
    zhword = spec.get("zhword")
    if zhword:
        out.update(_zh_word_grams(text, zhword[0], zhword[1]))
    out.discard(" ")
    return out


def _zh_word_grams(text: str, lo: int, hi: int) -> set[str]:
    # the pattern rules' segmentation of the same text (cached per text), so it is cut only once
    cuts = sorted(word_bounds(text))
    words = [w for w in (text[a:b] for a, b in pairwise(cuts)) if w.strip()]
    return {"j:" + " ".join(words[i : i + n]) for n in range(lo, hi + 1) for i in range(len(words) - n + 1)}


def locate(feature: str, text: str) -> tuple[int, int] | None:
    """Where a feature (``w:`` word n-gram or character n-gram) first occurs in a match string."""
    if feature.startswith("w:"):
        i = f" {text} ".find(f" {feature[2:]} ")
        return None if i < 0 else (i, i + len(feature) - 2)
    if feature.startswith("j:"):
        words = feature[2:].replace(" ", "")
        i = text.find(words)
        return None if i < 0 else (i, i + len(words))
    core = feature.strip(" ")
    if not core:
        return None
    i = text.find(core)
    return None if i < 0 else (i, i + len(core))


def _cue(feature: str) -> str:
    """A feature as shown to people: the words or characters, without the kind prefix."""
    if feature.startswith("j:"):
        return feature[2:].replace(" ", "")
    return feature.removeprefix("w:").strip()


def widen_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Extend a range of a space-separated match string to whole tokens (no-op without spaces)."""
    if " " not in text:
        return start, end
    left = text.rfind(" ", 0, start) + 1
    right = text.find(" ", end)
    return left, len(text) if right < 0 else right


@dataclass(frozen=True, slots=True)
class Score:
    """A model's verdict on one text: probability, strongest cues and the range they cover.

    ``span`` is the ``(start, end)`` range of the match string covering the (up to three) cues
    that weighed most towards "abusive", widened to whole words; ``None`` when no cue did.
    """

    probability: float
    cues: tuple[str, ...]
    span: tuple[int, int] | None = None


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
    #: the evaluation datasets the model was fitted on, joined by "+" ("" if unknown)
    dataset: str = ""
    #: the operating threshold chosen by training (cross-validated), if the file has one
    threshold: float | None = None
    #: shorter texts (English tokens, Chinese characters) are too short for a tone judgement
    min_length: int = 0

    def long_enough(self, match_text: str) -> bool:
        """Is a prepared text long enough to be scored (``min_length`` tokens or characters)?"""
        if self.lang == "en":
            return sum(tok.isalnum() or "'" in tok for tok in match_text.split(" ")) >= self.min_length
        return sum(c.isalnum() for c in match_text) >= self.min_length

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
        top = list(dict.fromkeys(f for _, f in contributions))[:3]
        found = [r for r in (locate(f, match_text) for f in top) if r is not None]
        span = None
        if found:
            span = widen_to_words(match_text, min(a for a, _ in found), max(b for _, b in found))
        cues = tuple(dict.fromkeys(_cue(f) for f in top))
        return Score(prob, cues, span)


def load_model(path: Path) -> AbuseModel:
    """Load and validate a model file; raises :class:`RuleModelError` naming the problem."""
    src = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RuleModelError(
            src, "model file not found (train it with: agent-monitor rules train --lang LANG)"
        ) from None
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
            threshold=None if data.get("threshold") is None else float(data["threshold"]),
            min_length=int(data.get("min_length", 0)),
        )
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise RuleModelError(src, f"malformed model: {exc!r}") from exc
    if set(spec) - {"char", "word", "zhword"} or not spec:
        raise RuleModelError(src, "features must name char, word or zhword n-grams", field="features")
    return model
