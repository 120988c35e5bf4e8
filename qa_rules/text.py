"""Text preparation: the string the patterns run on, with a map back to the original text.

English text becomes a string of lower-case tokens joined by single spaces (contractions and chat
spellings expanded, sentence ends kept as a ``.`` token). Chinese text becomes its characters with
whitespace removed (Vosk writes spaces between Chinese words). Both keep, for every character of the
match string, the original character range it came from, so hits report spans in the original text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

SENTENCE_END = "."
_EN_TOKEN = re.compile(r"[a-z0-9]+(?:[*'][*']*[a-z0-9]+)*|[.!?;]+")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})

#: spellings and contractions rewritten to plain tokens before matching
_EN_REWRITE: dict[str, tuple[str, ...]] = {
    "u": ("you",),
    "ya": ("you",),
    "ur": ("your",),
    "yer": ("your",),
    "r": ("are",),
    "gonna": ("going", "to"),
    "wanna": ("want", "to"),
    "gotta": ("got", "to"),
    "imma": ("i", "am", "going", "to"),
    "ima": ("i", "am", "going", "to"),
    "won't": ("will", "not"),
    "wont": ("will", "not"),
    "can't": ("can", "not"),
    "cant": ("can", "not"),
    "cannot": ("can", "not"),
    "ain't": ("is", "not"),
    "dont": ("do", "not"),
    "doesnt": ("does", "not"),
    "didnt": ("did", "not"),
    "isnt": ("is", "not"),
    "im": ("i", "am"),
    "youre": ("you", "are"),
    "shan't": ("shall", "not"),
}
_BE_S = frozenset({"it", "that", "what", "there", "he", "she", "who", "where", "here", "this", "how"})
_SUFFIX = {"n't": "not", "'re": "are", "'m": "am", "'ll": "will", "'ve": "have", "'d": "would"}


def en_expand(tok: str) -> tuple[str, ...]:
    rewrite = _EN_REWRITE.get(tok)
    if rewrite is not None:
        return rewrite
    if "'" not in tok:
        return (tok,)
    for suffix, word in _SUFFIX.items():
        if tok.endswith(suffix) and len(tok) > len(suffix):
            return (tok[: -len(suffix)], word)
    if tok.endswith("'s"):
        head = tok[:-2]
        return (head, "is") if head in _BE_S else (head,)
    return (tok.replace("'", ""),)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A text ready for matching: ``match`` plus, per match character, its original range."""

    lang: str
    original: str
    match: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original-text ``(start, end)`` of the match-string range ``[start, end)``."""
        if end <= start:
            pos = self.starts[start] if start < len(self.starts) else len(self.original)
            return (pos, pos)
        return (self.starts[start], self.ends[end - 1])


@lru_cache(maxsize=4096)
def _norm_char(ch: str) -> str:
    out = unicodedata.normalize("NFKC", ch).lower().translate(_APOSTROPHES)
    return out


def prepare(text: str, lang: str) -> Prepared:
    """Prepare ``text`` (language ``en`` or ``zh``) for pattern matching."""
    if lang == "zh":
        return _prepare_zh(text)
    return _prepare_en(text)


def _normalized(text: str) -> tuple[str, list[int]]:
    """NFKC + lower-case, with the original index of every output character."""
    if text.isascii():
        return text.lower().translate(_APOSTROPHES), list(range(len(text)))
    if unicodedata.is_normalized("NFKC", text):
        lowered = text.lower().translate(_APOSTROPHES)
        if len(lowered) == len(text):
            return lowered, list(range(len(text)))
    chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        n = _norm_char(ch)
        chars.append(n)
        index.extend([i] * len(n))
    return "".join(chars), index


def _prepare_en(text: str) -> Prepared:
    norm, index = _normalized(text)
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    last_end = 0
    for m in _EN_TOKEN.finditer(norm):
        tok = m.group()
        o_start = index[m.start()]
        o_end = index[m.end() - 1] + 1
        words = (SENTENCE_END,) if tok[0] in ".!?;" else en_expand(tok)
        for word in words:
            if parts:
                if parts[-1] == SENTENCE_END and word == SENTENCE_END:
                    continue
                parts.append(" ")
                starts.append(last_end)
                ends.append(o_start)
            parts.append(word)
            starts.extend([o_start] * len(word))
            ends.extend([o_end] * len(word))
            last_end = o_end
    return Prepared("en", text, "".join(parts), tuple(starts), tuple(ends))


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def _prepare_zh(text: str) -> Prepared:
    norm, index = _normalized(text)
    chars: list[str] = []
    starts: list[int] = []
    n = len(norm)
    for i, ch in enumerate(norm):
        if ch.isspace():
            prev = chars[-1] if chars else ""
            nxt = norm[i + 1] if i + 1 < n else ""
            keep = prev.isascii() and prev.isalnum() and nxt.isascii() and nxt.isalnum()
            if not keep or prev == " ":
                continue
            ch = " "
        chars.append(ch)
        starts.append(index[i])
    ends = tuple(s + 1 for s in starts)
    return Prepared("zh", text, "".join(chars), tuple(starts), ends)


def en_tokens_before(match: str, pos: int, limit: int) -> list[str]:
    """Up to ``limit`` tokens of an English match string ending just before ``pos``, nearest last."""
    head = match[:pos].rstrip()
    if not head:
        return []
    return head.rsplit(" ", limit)[-limit:]
