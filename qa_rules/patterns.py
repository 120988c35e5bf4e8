"""The pattern language of rule packs, compiled to regular expressions over prepared text.

A pattern is a string of *elements* separated by spaces::

    tell|call|contact ...4 your? @family|employer|boss

* ``a|b|c``: alternatives. English words match all their inflections (``tell`` also matches told,
  telling); ``=word`` matches exactly; ``word*`` matches any word starting with ``word``; ``_``
  joins words into one alternative (``debt_collector``). Chinese alternatives are literal text.
* ``@name``: every term of the pack list ``name`` (usable as one alternative among others).
* ``$addressed`` (Chinese): the words that aim what follows at a person: 你(就是)(个|这个)…,
  他就是个…; so 你这个垃圾 matches ``$addressed @mild`` but 扔垃圾 does not.
* ``$amount`` (English): a sum as written or as a recognizer spells it: digits (``$1,250`` is
  ``1 250`` once prepared), or number words, two or more (``four hundred fifty``) or one followed by
  dollars/bucks (``fifty dollars``); one number word alone (``one``) is not a sum. Chinese:
  digits, two or more numerals (两千, 三千五百) or one followed by 元/块 (五元); 一 alone is not one.
* ``elem?``: optional element.
* ``...`` / ``...N``: a gap of up to N words (English, default 3) or characters (Chinese, default
  6) that does not cross the end of a sentence (nor, in English, a negation word).

Besides strings a pattern may be ``{near: [A, B], within: N}`` (A and B within N words or
characters, in either order) or ``{regex: '...'}`` (a raw regular expression on the prepared text:
lower-case tokens joined by single spaces for English, characters without spaces for Chinese).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import regex

from qa_rules.en_morph import inflections
from qa_rules.text import en_expand

DEFAULT_GAP = {"en": 3, "zh": 6}
#: the widest gap (``...N``) and ``near`` window: an utterance, not a paragraph
MAX_GAP = 30
_GAP = re.compile(r"^\.\.\.(\d+)?$")
_ZH_GAP_CHAR = r"[^。!?;.]"
#: English gaps never skip a negation: "you are not a liar" is not "you are ... liar"
_EN_NEG_GAP = r"(?:not|never|no|nobody|nothing|none) "

#: ``$amount``: a sum of money as written or as a recognizer spells it (see the module documentation)
_EN_NUMBER_WORD = (
    "(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen"
    "|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty"
    "|ninety|hundred|thousand|million)"
)
_EN_AMOUNT = (
    rf"(?:\d+(?: \d{{3}})*(?: dollars?)?"
    rf"|{_EN_NUMBER_WORD}(?: (?:and )?{_EN_NUMBER_WORD})+(?: dollars?| bucks?)?"
    rf"|{_EN_NUMBER_WORD} (?:dollars?|bucks?))"
)

_ZH_NUMERAL = "[零〇一二两三四五六七八九十百千万亿]"
_ZH_AMOUNT = (
    rf"(?:\d+(?:,\d{{3}})*(?:\.\d+)?|{_ZH_NUMERAL}{{2,}}|{_ZH_NUMERAL}(?=[元块]))(?:元|块钱?|人民币)?"
)

MACROS: dict[str, dict[str, str]] = {
    "zh": {
        "amount": _ZH_AMOUNT,
        "addressed": r"(?:(?:你们?|您|妳)(?:[就真也还都才又]|简直|根本|纯粹|分明|就是|真是|真的)?"
        r"(?:是|当|像|算)?(?:一?个|这个|那个|这种|这号|这样的|这么个|种|这帮|这群|这些|一帮|一群)?"
        r"|(?:他|她)们?(?:就|真|简直|根本|纯粹)?是(?:一?个|这种|这号)?)(?:大|死|臭|老|小)?",
    },
    "en": {"amount": _EN_AMOUNT},
}


class PatternError(ValueError):
    """A pattern cannot be compiled; the message says why (the loader adds file and rule)."""


@dataclass(frozen=True, slots=True)
class TermList:
    """A named list of terms in a pack.

    ``homophones`` (Chinese): ``off``; ``any`` (a same-sounding span always counts); ``addressed``
    (it counts only when said to or about a person). ``word`` (Chinese): a match must start and
    end on jieba word boundaries (so 猪 does not match inside 猪肉).
    """

    name: str
    terms: tuple[str, ...]
    homophones: str = "off"
    word: bool = False


@dataclass(slots=True)
class Compiled:
    """Regex source of one or more patterns plus the named groups needing a word-boundary check."""

    source: str
    word_groups: list[str] = field(default_factory=list)
    #: whether a raw ``{regex: ...}`` is part of it (then it runs under a time limit)
    raw: bool = False


class _Builder:
    def __init__(self, lang: str, lists: dict[str, TermList]) -> None:
        self.lang = lang
        self.lists = lists
        self.word_groups: list[str] = []
        self._group = 0
        self.raw = False

    # -- alternatives -------------------------------------------------------------------------
    def _en_word(self, word: str) -> str:
        if word.startswith("="):
            return re.escape(word[1:])
        if word.endswith("*"):
            return re.escape(word[:-1]) + r"[^ ]*"
        forms = sorted(inflections(word), key=lambda f: (-len(f), f))
        return forms[0] if len(forms) == 1 else "(?:" + "|".join(re.escape(f) for f in forms) + ")"

    def _en_phrase(self, phrase: str) -> str:
        words = []
        for raw in re.split(r"[_ ]+", phrase.strip()):
            if not raw:
                continue
            if raw.startswith("=") or raw.endswith("*"):
                words.append(raw)
            else:
                words.extend(en_expand(raw))
        if not words:
            raise PatternError("empty alternative")
        for w in words:
            core = w.lstrip("=").rstrip("*")
            if not core or not re.fullmatch(r"[a-z0-9'*]+", core):
                raise PatternError(f"{w!r} is not a lower-case English word")
        return " ".join(self._en_word(w) for w in words)

    def _zh_phrase(self, phrase: str) -> str:
        text = phrase.replace("_", "")
        if not text:
            raise PatternError("empty alternative")
        return re.escape(text.lower())

    def term(self, phrase: str) -> str:
        return self._en_phrase(phrase) if self.lang == "en" else self._zh_phrase(phrase)

    def _list(self, name: str) -> str:
        tl = self.lists.get(name)
        if tl is None:
            known = ", ".join(sorted(self.lists)) or "none"
            raise PatternError(f"unknown list @{name} (lists in this pack: {known})")
        alts = sorted({self.term(t) for t in tl.terms}, key=lambda a: (-len(a), a))
        body = "(?:" + "|".join(alts) + ")"
        if self.lang == "zh" and tl.word:
            self._group += 1
            group = f"w{self._group}"
            self.word_groups.append(group)
            return f"(?P<{group}>{body})"
        return body

    def element(self, token: str) -> str:
        alts: list[str] = []
        for alt in token.split("|"):
            if not alt:
                raise PatternError(f"empty alternative in {token!r}")
            if alt.startswith("$"):
                macro = MACROS[self.lang].get(alt[1:])
                if macro is None:
                    raise PatternError(f"unknown macro {alt!r} for {self.lang}")
                alts.append(macro)
            else:
                alts.append(self._list(alt[1:]) if alt.startswith("@") else self.term(alt))
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    # -- sequences ----------------------------------------------------------------------------
    def gap(self, n: int) -> str:
        if self.lang == "en":
            return f"(?:(?!{_EN_NEG_GAP})[^ .]+ ){{0,{n}}}"
        return f"{_ZH_GAP_CHAR}{{0,{n}}}"

    def sequence(self, pattern: str) -> str:
        tokens = pattern.split()
        if not tokens:
            raise PatternError("empty pattern")
        sep = " " if self.lang == "en" else ""
        parts: list[str] = []
        n_elements = 0
        for i, tok in enumerate(tokens):
            last = i == len(tokens) - 1
            gap = _GAP.match(tok)
            if gap:
                if i == 0 or last or _GAP.match(tokens[i - 1]):
                    raise PatternError(f"gap {tok!r} must stand between two elements")
                n = int(gap.group(1) or DEFAULT_GAP[self.lang])
                if n > MAX_GAP:
                    raise PatternError(f"gap {tok!r}: at most {MAX_GAP} words or characters")
                parts.append(self.gap(n))
                continue
            optional = tok.endswith("?") and len(tok) > 1
            body = self.element(tok[:-1] if optional else tok)
            n_elements += 1
            if optional:
                if last:
                    raise PatternError(f"the last element {tok!r} cannot be optional")
                parts.append(f"(?:{body}{sep})?")
            else:
                parts.append(body + ("" if last else sep))
        if n_elements == 0:
            raise PatternError("a pattern needs at least one element")
        return "".join(parts)

    def near(self, a: str, b: str, within: int) -> str:
        ra = self.sequence(a)
        rb = self.sequence(b)
        sep = " " if self.lang == "en" else ""
        g = self.gap(within)
        return f"(?:{ra}{sep}{g}{rb}|{rb}{sep}{g}{ra})"


def compile_patterns(patterns: list[object], lang: str, lists: dict[str, TermList]) -> Compiled:
    """Compile a rule's patterns for ``lang``; raises :class:`PatternError` naming the pattern."""
    builder = _Builder(lang, lists)
    sources: list[str] = []
    for index, pattern in enumerate(patterns):
        try:
            sources.append(_one(builder, pattern))
        except PatternError as exc:
            raise PatternError(f"patterns[{index}]: {exc}") from None
    if not sources:
        raise PatternError("no patterns")
    body = "|".join(f"(?:{s})" for s in sources)
    source = f"(?<![^ ])(?:{body})(?![^ ])" if lang == "en" else body
    try:  # on the engine it will run on (qa_rules.timed_regex)
        regex.compile(source) if builder.raw else re.compile(source)
    except (re.error, regex.error, OverflowError, RecursionError) as exc:
        raise PatternError(f"does not compile: {exc}") from None
    return Compiled(source, builder.word_groups, builder.raw)


def _one(builder: _Builder, pattern: object) -> str:
    if isinstance(pattern, str):
        return builder.sequence(pattern)
    if isinstance(pattern, dict):
        keys = set(pattern)
        if keys == {"regex"}:
            raw = pattern["regex"]
            if not isinstance(raw, str) or not raw:
                raise PatternError("regex must be a non-empty string")
            try:
                regex.compile(raw)
            except (regex.error, OverflowError, RecursionError) as exc:
                raise PatternError(f"bad regex {raw!r}: {exc}") from None
            builder.raw = True
            return raw
        if keys == {"near", "within"}:
            pair = pattern["near"]
            within = pattern["within"]
            if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
                raise PatternError("near must be a list of two pattern strings")
            if not isinstance(within, int) or isinstance(within, bool) or not 0 <= within <= MAX_GAP:
                raise PatternError(f"within must be an integer from 0 to {MAX_GAP}")
            return builder.near(pair[0], pair[1], within)
        raise PatternError(f"unknown pattern keys {sorted(keys)} (use regex, or near + within)")
    raise PatternError(f"a pattern is a string or a mapping, not {type(pattern).__name__}")


def compile_literals(phrases: list[str], lang: str) -> str | None:
    """Regex source matching any of ``phrases`` literally (allow-lists); None if empty."""
    if not phrases:
        return None
    if lang == "en":
        alts = sorted({" ".join(re.escape(w) for w in p.lower().split()) for p in phrases}, key=len)
        return r"(?<![^ ])(?:" + "|".join(reversed(alts)) + r")(?![^ ])"
    alts = sorted({re.escape(p.lower().replace(" ", "")) for p in phrases}, key=len)
    return "(?:" + "|".join(reversed(alts)) + ")"
