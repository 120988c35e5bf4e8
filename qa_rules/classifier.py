"""A small abuse classifier kept behind the rule interface: n-gram logistic regression.

The model is trained offline (``python -m qa_rules.offline.train``) and stored as JSON: the intercept and,
per n-gram, its coefficient and idf. No pickles, nothing downloaded at run time. Scoring
reproduces scikit-learn's ``TfidfVectorizer(binary=True, norm="l2")`` followed by
``LogisticRegression`` exactly, in plain Python (tens of microseconds per utterance).

A model may hold several **views** (e.g. Chinese characters and jieba words), each its own
TF-IDF vector with its own L2 norm and its own regression; the model's log-odds are the mean of
the views' log-odds. A file with one view keeps its fields at the top level; a file with more
lists them under ``views``.

A score also names its evidence: the n-grams that weighed most towards "abusive" and the character
range of the match string they cover, so a classifier hit shows which words it rests on.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

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


def long_enough(match_text: str, lang: str, min_length: int) -> bool:
    """Has a prepared text ``min_length`` tokens (English) or characters (Chinese) to be scored?"""
    if lang == "en":
        return sum(tok.isalnum() or "'" in tok for tok in match_text.split(" ")) >= min_length
    return sum(c.isalnum() for c in match_text) >= min_length


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
class View:
    """One linear view: its n-gram kinds, intercept and per-n-gram ``(coefficient, idf)``."""

    spec: dict[str, list[int]]
    intercept: float
    weights: dict[str, tuple[float, float]]

    def logit(self, match_text: str) -> tuple[float, list[tuple[float, str]]]:
        """Log-odds of the L2-normalised TF-IDF vector, and each abusive-leaning n-gram's share."""
        total = 0.0
        norm = 0.0
        leaning: list[tuple[float, str]] = []
        for feat in features(match_text, self.spec):
            entry = self.weights.get(feat)
            if entry is None:
                continue
            coef, idf = entry
            total += coef * idf
            norm += idf * idf
            if coef > 0:
                leaning.append((coef * idf, feat))
        if not norm:
            return self.intercept, []
        scale = 1.0 / math.sqrt(norm)
        return self.intercept + total * scale, [(c * scale, f) for c, f in leaning]


@dataclass(frozen=True, slots=True)
class AbuseModel:
    """A loaded abuse model: the mean log-odds of its views."""

    name: str
    version: str
    lang: str
    views: tuple[View, ...]
    description: str
    path: str
    #: the evaluation datasets the model was fitted on, joined by "+" ("" if unknown)
    dataset: str = ""
    #: the operating threshold chosen by training (cross-validated), if the file has one
    threshold: float | None = None
    #: shorter texts (English tokens, Chinese characters) are too short for a tone judgement
    min_length: int = 0

    @property
    def spec(self) -> dict[str, list[int]]:
        """Every n-gram kind the model reads (the union of its views')."""
        return {k: v for view in self.views for k, v in view.spec.items()}

    def long_enough(self, match_text: str) -> bool:
        """Is a prepared text long enough to be scored (``min_length`` tokens or characters)?"""
        return long_enough(match_text, self.lang, self.min_length)

    def score(self, match_text: str) -> Score:
        z = 0.0
        contributions: list[tuple[float, str]] = []
        for view in self.views:
            logit, leaning = view.logit(match_text)
            z += logit
            contributions.extend(leaning)
        z /= len(self.views)
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
        views = tuple(_view(v) for v in data.get("views", [data]))
        model = AbuseModel(
            name=str(data["name"]),
            version=str(data["version"]),
            lang=str(data["lang"]),
            views=views,
            description=str(data.get("description", "")),
            path=src,
            dataset=str(data.get("dataset", "")),
            threshold=None if data.get("threshold") is None else float(data["threshold"]),
            min_length=int(data.get("min_length", 0)),
        )
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise RuleModelError(src, f"malformed model: {exc!r}") from exc
    if not views or any(set(v.spec) - {"char", "word", "zhword"} or not v.spec for v in views):
        raise RuleModelError(src, "features must name char, word or zhword n-grams", field="features")
    return model


def _view(data: dict[str, Any]) -> View:
    """One view of a model file (raises ``KeyError``/``TypeError``/``ValueError`` if malformed)."""
    return View(
        spec={k: [int(v[0]), int(v[1])] for k, v in data["features"].items()},
        intercept=float(data["intercept"]),
        weights={str(k): (float(v[0]), float(v[1])) for k, v in data["weights"].items()},
    )
