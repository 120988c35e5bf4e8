"""Context around a match: negation ("I'm not threatening you"), reported speech, politeness.

Both look back from the start of the match, inside the same clause, over the prepared text.
English: up to 5 tokens; the look-back stops at a sentence end, at a clause word (if, unless, or,
but, because, so, then, when, otherwise) and at a personal pronoun, so the condition in "if you
don't pay you will go to jail" does not negate the threat. Chinese: up to 8 characters, stopping at
punctuation and at clause words (就, 否则, 不然, 要不, 然后).
"""

from __future__ import annotations

import re

from qa_rules.text import SENTENCE_END, en_tokens_before

_EN_NEGATORS = frozenset({"not", "never", "no", "nobody", "nothing", "none", "neither", "nor", "noone"})
_EN_STOP = frozenset(
    {SENTENCE_END, "if", "unless", "or", "but", "because", "so", "then", "when", "otherwise", "else"}
)
_EN_PRONOUNS = frozenset({"i", "you", "we", "they", "he", "she"})
#: token sequences that mark the words after them as quoted or reported
_EN_REPORTED = (
    ("said",),
    ("says",),
    ("saying",),
    ("told", "me"),
    ("told", "us"),
    ("tell", "me"),
    ("telling", "me"),
    ("called", "me"),
    # "he called you a ..." / "did he call you a ...?" report a word; "i called you yesterday" does not
    ("called", "you", "a"),
    ("called", "you", "an"),
    ("call", "you", "a"),
    ("call", "you", "an"),
    ("call", "me"),
    ("calling", "me"),
    ("claimed",),
    ("claims",),
    ("accused",),
    ("accusing",),
    ("heard",),
    ("according", "to"),
    ("quote",),
)

#: a negation word before the match; 不还/没给… ("if you don't pay") is a condition, not a negation
_ZH_NEGATION = re.compile(r"(?:不|没|别|未|勿|莫|甭)(?![还给付交])[^,。!?;.就则]{0,7}$")
_ZH_A_NOT_A = re.compile(r"(.)[不没]\1")
_ZH_STOP = re.compile(r"[,。!?;.]|就|否则|不然|要不|然后|要是|如果")
_ZH_REPORTED = re.compile(
    r"(?:说我|骂我|叫我|说要|说会|说过|听说|据说|你说|他说|她说|他们说|你们说|你刚才说|称我|告诉我|说什么)"
    r"[^。!?;.]{0,12}$"
)


def negated(match: str, pos: int, lang: str) -> bool:
    """Is the text starting at ``pos`` of a prepared match string negated in its clause?"""
    if lang == "zh":
        head = match[max(0, pos - 10) : pos]
        stops = list(_ZH_STOP.finditer(head))
        if stops:
            head = head[stops[-1].end() :]
        head = _ZH_A_NOT_A.sub("", head)  # 信不信, 是不是: questions, not negations
        return _ZH_NEGATION.search(head) is not None
    for tok in reversed(en_tokens_before(match, pos, 5)):
        if tok in _EN_NEGATORS:
            return True
        if tok in _EN_STOP or tok in _EN_PRONOUNS:
            return False
    return False


def reported(match: str, pos: int, lang: str) -> bool:
    """Is the text starting at ``pos`` quoted or reported speech ("you called me a ...")?"""
    if lang == "zh":
        return _ZH_REPORTED.search(match[max(0, pos - 16) : pos]) is not None
    before = en_tokens_before(match, pos, 10)
    if SENTENCE_END in before:
        before = before[len(before) - before[::-1].index(SENTENCE_END) :]
    for i in range(len(before)):
        for cue in _EN_REPORTED:
            if tuple(before[i : i + len(cue)]) == cue:
                return True
    return False


_EN_POLITE = re.compile(
    r"(?:^| )(?:please|thank you|thanks|sorry|i apologize|apologies|i appreciate|i understand)(?= |$)"
)
_ZH_POLITE = re.compile(r"您|请|谢谢|感谢|抱歉|不好意思|麻烦")


def polite(match: str, lang: str) -> bool:
    """Does the utterance use polite forms (please, thank you, sorry; 您, 请, 谢谢, 抱歉...)?

    Used to ask the classifier for more certainty (its cue words can be ambiguous); pattern rules
    are unaffected: profanity said politely is still profanity.
    """
    regex = _ZH_POLITE if lang == "zh" else _EN_POLITE
    return regex.search(match) is not None
