"""Masking of personal data in transcripts, on screen and in exports.

What is masked: runs of digits in a transcript, whether written as digits (``13812345678``),
spelled out by the recogniser (``four one five ...``, ``幺三八 ...``) or split by spaces, dashes,
dots or brackets, when the run is

- a Chinese resident ID number: 17 digits and a check character (digit or ``X``) -> ``[ID]``;
- a US social security number: ``ddd-dd-dddd`` or any run of exactly 9 digits -> ``[SSN]``;
- a bank card number: 13-19 digits passing the Luhn check -> ``[CARD ••1234]``; because one
  misheard digit breaks the Luhn check, other runs of 13-19 digits are masked too, as
  ``[NUMBER]``;
- a phone number: any other run of 7-12 digits (local, national, mobile and international
  numbers) -> ``[PHONE ••1234]``.

Runs shorter than 7 digits (amounts, dates, times, counts) are left alone, and so are identifiers:
a word that starts with a letter and joins parts with ``-`` or ``_`` (``demo-98628310``, ``A-9``,
``call_20240305``) is a call, agent or ticket id, not personal data. Card and phone numbers
keep their last four digits (what a caller is commonly asked to confirm); ID and social security
numbers keep nothing.

Who sees what (:class:`MaskPolicy`): by default transcripts are masked for the ``agent`` and ``qa``
roles, who do their work without the numbers, and shown unmasked to ``supervisor`` and ``admin``,
who may need them to act on a live call or answer a records request. Every API response and every
export made for a masked role is masked on the server; the audio itself is not altered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from agent_monitor.model.roles import Role

#: roles that see personal data unmasked unless configured otherwise
DEFAULT_UNMASKED_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})

_EN_DIGITS = {
    "zero": "0",
    "oh": "0",
    "o": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
_ZH_DIGITS = {
    "零": "0",
    "〇": "0",
    "一": "1",
    "幺": "1",
    "二": "2",
    "两": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "八": "8",
    "九": "9",
}
_ZH_CLASS = "".join(_ZH_DIGITS)
#: an identifier (call id, agent id, ticket): letters then ``-``/``_``-joined parts with a digit,
#: e.g. ``demo-98628310``, ``A-9``; one token, so its digits are never read as a phone number
_IDENTIFIER = r"[A-Za-z][A-Za-z\d]*(?:[-_][A-Za-z\d]+)*[-_](?=[A-Za-z\d]*\d)[A-Za-z\d]+(?:[-_][A-Za-z\d]+)*"
_TOKEN = re.compile(rf"{_IDENTIFIER}|\d+|[{_ZH_CLASS}]+|[A-Za-z]+|\s+|[^\sA-Za-z\d{_ZH_CLASS}]")
#: the tokens of an identifier that is personal data: as ``_TOKEN`` without the identifier word
_ID_TOKEN = re.compile(rf"\d+|[{_ZH_CLASS}]+|[A-Za-z]+|\s+|[^\sA-Za-z\d{_ZH_CLASS}]")
_SEPARATOR = re.compile(r"\s+|[-.()/+]")
_SSN_FORMAT = re.compile(r"^\d{3}[- ]\d{2}[- ]\d{4}$")
MIN_DIGITS = 7


def _digits_of(token: str) -> str | None:
    """The digits a token stands for, or None when it is not a number token."""
    if token.isascii() and token.isdigit():
        return token
    if all(c in _ZH_DIGITS for c in token):
        return "".join(_ZH_DIGITS[c] for c in token)
    return _EN_DIGITS.get(token.lower())


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def classify(digits: str, raw: str = "") -> str | None:
    """What a run of digits (``X`` allowed last for an ID) is, or None when it is not masked."""
    n = len(digits)
    if n == 18 and digits[:17].isdigit():
        return "id"
    if not digits.isdigit() or n < MIN_DIGITS:
        return None
    if n == 9 or _SSN_FORMAT.match(raw.strip()):
        return "ssn"
    if 13 <= n <= 19:
        return "card" if luhn_valid(digits) else "number"
    if n <= 12:
        return "phone"
    return "number"


def label(kind: str, digits: str) -> str:
    if kind in ("card", "phone"):
        return f"[{kind.upper()} ••{digits[-4:]}]"
    return f"[{kind.upper()}]"


@dataclass(frozen=True, slots=True)
class Span:
    """Tokens ``first`` .. ``last`` (inclusive) form one personal number of ``kind``."""

    first: int
    last: int
    kind: str
    digits: str


def find_spans(tokens: Sequence[str]) -> list[Span]:
    """Personal numbers in a token sequence (separator tokens may sit between number tokens)."""
    spans: list[Span] = []
    i, n = 0, len(tokens)
    while i < n:
        if _digits_of(tokens[i]) is None:
            i += 1
            continue
        digits, last, j = "", i, i
        while j < n:
            d = _digits_of(tokens[j])
            if d is not None:
                digits, last = digits + d, j
            elif not _SEPARATOR.fullmatch(tokens[j]):
                break
            j += 1
        # a Chinese ID may end in X
        if len(digits) == 17:
            k = last + 1
            while k < n and tokens[k].isspace():
                k += 1
            if k < n and tokens[k].lower() in ("x", "ex"):
                digits, last = digits + "X", k
        kind = classify(digits, "".join(tokens[i : last + 1]))
        if kind is not None:
            spans.append(Span(i, last, kind, digits))
        i = last + 1
    return spans


def mask_text(text: str) -> str:
    """``text`` with every personal number replaced by its label."""
    return _masked(text, _TOKEN.findall(text))


def mask_id(value: str) -> str:
    """An identifier that is itself personal data (a debt named by an account or card number) with
    its personal numbers masked, those after a letter prefix too: ``ACCT-4111111111111111`` reads
    ``ACCT-[CARD ••1111]``. :func:`mask_text` leaves a word like that alone (a call or agent id said
    in a call); the number of an account is personal data whatever it is prefixed with."""
    return _masked(value, _ID_TOKEN.findall(value))


def _masked(text: str, tokens: Sequence[str]) -> str:
    spans = find_spans(tokens)
    if not spans:
        return text
    out: list[str] = []
    pos = 0
    for span in spans:
        out.extend(tokens[pos : span.first])
        out.append(label(span.kind, span.digits))
        pos = span.last + 1
    out.extend(tokens[pos:])
    return "".join(out)


def mask_words(words: Sequence[str]) -> list[str]:
    """Recognised words (one token each) with the words of a personal number replaced: the first
    by the label, the others by ``•`` (so word timings stay aligned)."""
    masked = list(words)
    # split words that are themselves mixed (e.g. "13812345678。") into tokens, keep a word index
    tokens: list[str] = []
    owner: list[int] = []
    for w_i, word in enumerate(words):
        parts = _TOKEN.findall(word) or [word]
        tokens.extend(parts)
        owner.extend([w_i] * len(parts))
        tokens.append(" ")
        owner.append(-1)
    for span in find_spans(tokens):
        hit = sorted({owner[t] for t in range(span.first, span.last + 1) if owner[t] >= 0})
        for k, w_i in enumerate(hit):
            masked[w_i] = label(span.kind, span.digits) if k == 0 else "•"
    return masked


@dataclass(frozen=True, slots=True)
class MaskPolicy:
    """Which roles see personal data unmasked."""

    unmasked_roles: frozenset[Role] = DEFAULT_UNMASKED_ROLES

    @classmethod
    def from_roles(cls, roles: Iterable[Role] | None) -> MaskPolicy:
        return cls() if roles is None else cls(frozenset(Role(r) for r in roles))

    def masks_for(self, role: Role) -> bool:
        return role not in self.unmasked_roles


def mask_utterance(data: dict[str, Any]) -> dict[str, Any]:
    """A transcript / utterance dict (``text`` and optional ``words`` of ``{"text": ...}``) masked."""
    out = dict(data)
    if isinstance(out.get("text"), str):
        out["text"] = mask_text(out["text"])
    words = out.get("words")
    if isinstance(words, list) and words:
        texts = mask_words([str(w.get("text", "")) for w in words])
        out["words"] = [{**w, "text": t} for w, t in zip(words, texts, strict=True)]
    return out


def mask_call_info(info: dict[str, Any]) -> dict[str, Any]:
    """A live call's info (``CallInfo.to_dict``: the ``call_started`` event, ``/api/live``) with its
    personal data masked as the call page masks it: the debtor's phone, and the debt (an account or
    card number, :func:`mask_id`)."""
    out = mask_fields(info, ("debtor_phone",))
    if isinstance(out.get("debt_id"), str):
        out["debt_id"] = mask_id(out["debt_id"])
    return out


def mask_fields(data: dict[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """``data`` with the named string fields masked (evidence, reason texts, phone numbers)."""
    out = dict(data)
    for name in fields:
        value = out.get(name)
        if isinstance(value, str):
            out[name] = mask_text(value)
    return out


_ZH_RUN = re.compile(rf"[{_ZH_CLASS}]{{2,}}")


def number_words(words: Iterable[str]) -> list[str]:
    """The words that look for a number: digits, a spelled-out English digit, or two Chinese digits
    in a row. A text search by a role that sees numbers masked must not use them: matching
    ``138*``, then ``1381*``, ... recovers a masked number one digit at a time."""
    return [
        w
        for w in words
        if any(c.isdigit() for c in w) or w.lower() in _EN_DIGITS or _ZH_RUN.search(w) is not None
    ]
