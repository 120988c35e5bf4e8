"""Chinese helpers: lazy jieba segmentation and pinyin homophone canonicalisation.

jieba takes about a second to build its prefix dictionary, so it is imported and initialised on
first use only, once per process. pypinyin is imported on first use as well.

Homophones: a speech recogniser writes the characters its language model prefers, so an insult
such as 老赖 (lǎolài) may arrive as 老来 and 骗子 as 片子. :class:`HomophoneIndex` rewrites such
spans to the canonical term when their toneless pinyin matches the term's. The replacement has the
same length (one character per syllable), so character offsets do not move. Terms whose sound
collides with common words (片子 "film", 老来 "in old age") are registered in ``addressed`` mode:
the rewrite only happens when the span is said *to or about a person* (你这个片子, 你就是个老来),
which keeps ordinary words from flooding the hits. Every rewritten span must also be whole jieba
words (so 什么的 never yields 妈的), and outside an addressing frame it must not be an ordinary
dictionary word; two-character terms, whose sounds collide with ordinary words far too often
(出生/畜生, 见人/贱人), are always treated as ``addressed``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from qa_rules.patterns import MACROS

_jieba: Any = None
_jieba_lock = threading.Lock()


def jieba_module() -> Any:
    """The initialised ``jieba`` module (imported and initialised once, on first use)."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import logging

                import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba = jieba
    return _jieba


@lru_cache(maxsize=2048)
def word_bounds(text: str) -> frozenset[int]:
    """Character offsets of jieba word boundaries in ``text`` (0 and ``len(text)`` included)."""
    bounds = {0}
    pos = 0
    for word in jieba_module().cut(text, HMM=False):
        pos += len(word)
        bounds.add(pos)
    return frozenset(bounds)


@lru_cache(maxsize=16384)
def char_readings(ch: str) -> frozenset[str]:
    """Pinyin readings of one character, toneless (``lai``) and toned (``lai4``); empty if not Chinese."""
    if not ("\u3400" <= ch <= "\u9fff"):
        return frozenset()
    from pypinyin import Style, pinyin

    toned = [r for r in pinyin(ch, style=Style.TONE3, heteronym=True, neutral_tone_with_five=True)[0]]
    return frozenset([r for r in toned if r[:-1].isalpha()] + [r.rstrip("012345") for r in toned])


def term_pinyin(term: str, tones: bool = False) -> tuple[str, ...]:
    """Pinyin of a term, one syllable per character (phrase-aware for polyphones)."""
    from pypinyin import Style, lazy_pinyin

    if tones:
        return tuple(lazy_pinyin(term, style=Style.TONE3, neutral_tone_with_five=True))
    return tuple(lazy_pinyin(term))


def common_word(text: str) -> bool:
    """Is ``text`` an ordinary word of jieba's dictionary (so not a likely mis-recognition)?"""
    freq: dict[str, int] = jieba_module().dt.FREQ
    return freq.get(text, 0) >= 20


#: the span is addressed to / said of a person: "你(就)(是)(个|这个)…", "他就是个…"
_ADDRESSED = re.compile("(?:" + MACROS["zh"]["addressed"] + ")$")


@dataclass(frozen=True, slots=True)
class Substitution:
    """A span rewritten from what was heard to the canonical term it sounds like."""

    start: int
    end: int
    heard: str
    term: str


@dataclass(frozen=True, slots=True)
class _Entry:
    term: str
    syllables: tuple[str, ...]
    addressed: bool


class HomophoneIndex:
    """Finds spans that sound like registered terms and rewrites them to the terms."""

    def __init__(self, terms: Iterable[tuple[str, bool]]) -> None:
        """``terms``: ``(term, addressed)``; ``addressed`` terms need a person-addressing frame."""
        self._by_first: dict[str, list[_Entry]] = {}
        self._cache: dict[str, tuple[_Entry, ...]] = {}
        self._first_chars: set[str] = set()
        seen: set[str] = set()
        for term, addressed in terms:
            if term in seen or not all("\u3400" <= c <= "\u9fff" for c in term) or len(term) < 2:
                continue
            seen.add(term)
            # two-syllable pairs collide with ordinary words far too often (出生/畜生, 见人/贱人):
            # they are only rewritten inside an addressing frame (你这个…)
            addressed = addressed or len(term) == 2
            syl = term_pinyin(term)
            if len(syl) != len(term):
                continue
            self._by_first.setdefault(syl[0], []).append(_Entry(term, syl, addressed))
        for entries in self._by_first.values():
            entries.sort(key=lambda e: -len(e.term))

    def __bool__(self) -> bool:
        return bool(self._by_first)

    def _candidates(self, ch: str) -> tuple[_Entry, ...]:
        """Entries whose first syllable is a reading of ``ch`` (cached per character)."""
        found = self._cache.get(ch)
        if found is None:
            found = tuple(e for r in sorted(char_readings(ch)) for e in self._by_first.get(r, ()))
            self._cache[ch] = found
        return found

    def canonicalize(
        self, text: str, blocked: list[tuple[int, int]] | None = None
    ) -> tuple[str, tuple[Substitution, ...]]:
        """Rewrite homophones of registered terms; spans overlapping ``blocked`` are left alone."""
        if not self._by_first:
            return text, ()
        subs: list[Substitution] = []
        out = list(text)
        i = 0
        n = len(text)
        candidates = self._candidates
        while i < n:
            entries = candidates(text[i])
            hit: _Entry | None = None
            for entry in entries:
                length = len(entry.term)
                if i + length > n or text[i : i + length] == entry.term:
                    continue
                if all(entry.syllables[k] in char_readings(text[i + k]) for k in range(1, length)):
                    hit = entry
                    break
            if hit is not None:
                end = i + len(hit.term)
                heard = text[i:end]
                ok = not any(s < end and i < e for s, e in blocked or ())
                if ok and hit.addressed:
                    ok = _ADDRESSED.search("".join(out[max(0, i - 10) : i])) is not None
                elif ok:
                    ok = not common_word(heard)
                if ok:
                    # the span must be whole words, not the tail of one word and the head of the next
                    bounds = word_bounds(text)
                    ok = i in bounds and end in bounds
                if ok:
                    subs.append(Substitution(i, end, text[i:end], hit.term))
                    out[i:end] = hit.term
                    i = end
                    continue
            i += 1
        if not subs:
            return text, ()
        return "".join(out), tuple(subs)
