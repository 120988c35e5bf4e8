"""Character error rate (CER) for Chinese, with the text normalisation it is computed after.

Chinese has no spaces between words, so recognition of Mandarin is scored per character. Before
scoring, both the reference and the hypothesis go through :func:`zh_chars`:

1. Unicode NFKC (full-width letters and digits become ASCII, compatibility forms are unified)
   and lower case;
2. numbers written with Arabic digits become the Chinese characters a speaker says and Vosk's
   Mandarin models write (``normalise_numbers``): a run of digits directly before 年 (a year), one
   with a leading zero or longer than four digits (a phone, card or account number) is read digit
   by digit (``2019年`` -> 二零一九年, ``010`` -> 零一零); any other integer as a quantity
   (``104`` -> 一百零四, ``15`` -> 十五); a decimal point between digits is 点; ``〇`` is 零;
3. punctuation, symbols and white space are removed (Unicode categories P*, S*, Z*, C*);
4. what is left is split into single characters (a Latin letter is one character too).

The CER is the Levenshtein distance between the two character sequences (substitutions,
deletions, insertions) over the number of reference characters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_DIGIT_ZH = "零一二三四五六七八九"
_UNITS = ((1000, "千"), (100, "百"), (10, "十"))
#: a number: digits, optionally a decimal part; group 1 the integer part, group 2 the decimals
_NUMBER = re.compile(r"(\d+)(?:\.(\d+))?")


def _digit_by_digit(digits: str) -> str:
    return "".join(_DIGIT_ZH[int(d)] for d in digits)


def _quantity(n: int) -> str:
    """An integer 0-9999 as it is read: 104 -> 一百零四, 15 -> 十五, 2000 -> 二千."""
    if n < 10:
        return _DIGIT_ZH[n]
    out: list[str] = []
    zero_pending = False
    for unit, name in _UNITS:
        d, n = divmod(n, unit)
        if d:
            if zero_pending:
                out.append("零")
                zero_pending = False
            out.append(_DIGIT_ZH[d] + name)
        elif out:
            zero_pending = True
    if n:
        if zero_pending:
            out.append("零")
        out.append(_DIGIT_ZH[n])
    text = "".join(out)
    return text[1:] if text.startswith("一十") else text  # 15 is 十五, not 一十五


def normalise_numbers(text: str) -> str:
    """Arabic-digit numbers in ``text`` as Chinese characters (rules in the module documentation)."""

    def spell(m: re.Match[str]) -> str:
        whole, frac = m.group(1), m.group(2)
        year = text[m.end() : m.end() + 1] == "年" and frac is None
        if year or len(whole) > 4 or (len(whole) > 1 and whole.startswith("0")):
            spoken = _digit_by_digit(whole)
        else:
            spoken = _quantity(int(whole))
        return spoken + ("点" + _digit_by_digit(frac) if frac is not None else "")

    return _NUMBER.sub(spell, text.replace("〇", "零"))


def zh_chars(text: str) -> list[str]:
    """The characters of ``text`` that a Chinese CER counts (see the module documentation)."""
    text = normalise_numbers(unicodedata.normalize("NFKC", text).lower())
    return [c for c in text if unicodedata.category(c)[0] not in "PSZC"]


@dataclass(frozen=True, slots=True)
class CharErrors:
    """The alignment counts of a hypothesis against a reference."""

    substitutions: int
    deletions: int
    insertions: int
    ref_chars: int

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def cer(self) -> float:
        """Character error rate in percent (0 for an empty reference and an empty hypothesis)."""
        if self.ref_chars == 0:
            return 0.0 if self.errors == 0 else 100.0
        return 100.0 * self.errors / self.ref_chars


def align(ref: list[str], hyp: list[str]) -> CharErrors:
    """Levenshtein alignment of two token lists, split into substitutions, deletions, insertions."""
    # each cell: (total, substitutions, deletions, insertions); ties prefer a substitution
    prev = [(j, 0, 0, j) for j in range(len(hyp) + 1)]
    for i, r in enumerate(ref, 1):
        cur = [(i, 0, i, 0)]
        for j, h in enumerate(hyp, 1):
            t, s, d, n = prev[j - 1]
            best = (t, s, d, n) if r == h else (t + 1, s + 1, d, n)
            t, s, d, n = prev[j]
            if t + 1 < best[0]:
                best = (t + 1, s, d + 1, n)
            t, s, d, n = cur[j - 1]
            if t + 1 < best[0]:
                best = (t + 1, s, d, n + 1)
            cur.append(best)
        prev = cur
    _, s, d, n = prev[-1]
    return CharErrors(substitutions=s, deletions=d, insertions=n, ref_chars=len(ref))


def char_errors(reference: str, hypothesis: str) -> CharErrors:
    """The character errors of ``hypothesis`` against ``reference``, both normalised first."""
    return align(zh_chars(reference), zh_chars(hypothesis))
