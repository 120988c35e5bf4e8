"""A small built-in English lemma expander: a pattern word matches all its inflected forms.

Rather than lemmatising every word of every utterance at run time, each pattern word (a lemma) is
expanded once, when the pack is compiled, into the set of its inflections (plural, third person,
past, participles, ``-ing``). Irregular forms come from a table; regular ones from spelling rules.
Over-generation (e.g. both ``stoped`` and ``stopped``) is harmless: the extra forms are not words.
"""

from __future__ import annotations

from functools import lru_cache

_IRREGULAR: dict[str, tuple[str, ...]] = {
    "be": ("am", "is", "are", "was", "were", "been", "being"),
    "have": ("has", "had", "having"),
    "do": ("does", "did", "done", "doing"),
    "go": ("goes", "went", "gone", "going"),
    "say": ("says", "said", "saying"),
    "tell": ("tells", "told", "telling"),
    "make": ("makes", "made", "making"),
    "take": ("takes", "took", "taken", "taking"),
    "get": ("gets", "got", "gotten", "getting"),
    "come": ("comes", "came", "coming"),
    "find": ("finds", "found", "finding"),
    "send": ("sends", "sent", "sending"),
    "put": ("puts", "putting"),
    "beat": ("beats", "beaten", "beating"),
    "break": ("breaks", "broke", "broken", "breaking"),
    "hurt": ("hurts", "hurting"),
    "hit": ("hits", "hitting"),
    "cut": ("cuts", "cutting"),
    "shoot": ("shoots", "shot", "shooting"),
    "steal": ("steals", "stole", "stolen", "stealing"),
    "lose": ("loses", "lost", "losing"),
    "know": ("knows", "knew", "known", "knowing"),
    "see": ("sees", "saw", "seen", "seeing"),
    "speak": ("speaks", "spoke", "spoken", "speaking"),
    "bring": ("brings", "brought", "bringing"),
    "seize": ("seizes", "seized", "seizing"),
    "die": ("dies", "died", "dying"),
    "lie": ("lies", "lied", "lying"),
    "kill": ("kills", "killed", "killing"),
    "throw": ("throws", "threw", "thrown", "throwing"),
    "lock": ("locks", "locked", "locking"),
    "hold": ("holds", "held", "holding"),
    "let": ("lets", "letting"),
    "show": ("shows", "showed", "shown", "showing"),
    "read": ("reads", "reading"),
    "write": ("writes", "wrote", "written", "writing"),
    "shut": ("shuts", "shutting"),
    "stick": ("sticks", "stuck", "sticking"),
    "bleed": ("bleeds", "bled", "bleeding"),
    "man": ("men",),
    "woman": ("women",),
    "child": ("children",),
    "person": ("people", "persons"),
    "wife": ("wives",),
    "life": ("lives",),
    "knife": ("knives",),
    "thief": ("thieves",),
    "foot": ("feet",),
    "tooth": ("teeth",),
    "mouse": ("mice",),
    "family": ("families",),
}
#: words never inflected (function words, pronouns)
_FIXED_WORDS = """
a an the i me my mine you your yours he him his she her hers we us our they them their it its this
that these those to of in on at by for with from and or but if not no never so as is am are was were
will would shall should can could may might must than then there here what who whom which when where
why how all any some every each up out off over down
"""
_FIXED = frozenset(_FIXED_WORDS.split())
_VOWELS = frozenset("aeiou")


def _double_final(word: str) -> bool:
    return (
        len(word) >= 3
        and word[-1] not in _VOWELS
        and word[-1] not in "wxy"
        and word[-2] in _VOWELS
        and word[-3] not in _VOWELS
    )


@lru_cache(maxsize=8192)
def inflections(word: str) -> frozenset[str]:
    """All forms that count as ``word`` (itself included)."""
    w = word.lower()
    forms = {w, *_IRREGULAR.get(w, ())}
    if w in _FIXED or not w.isalpha() or len(w) < 3:
        return frozenset(forms)
    # plural / third person
    if w.endswith(("s", "x", "z", "ch", "sh")):
        forms.add(w + "es")
    elif w.endswith("y") and w[-2] not in _VOWELS:
        forms.add(w[:-1] + "ies")
    else:
        forms.add(w + "s")
    if w.endswith("f"):
        forms.add(w[:-1] + "ves")
    # past and participles
    if w.endswith("e"):
        forms.add(w + "d")
        stem_ing = w[:-1] if not w.endswith(("ee", "ye", "oe")) else w
        if w.endswith("ie"):
            stem_ing = w[:-2] + "y"
        forms.add(stem_ing + "ing")
    elif w.endswith("y") and w[-2] not in _VOWELS:
        forms.update({w[:-1] + "ied", w + "ing"})
    else:
        forms.update({w + "ed", w + "ing"})
        if _double_final(w):
            forms.update({w + w[-1] + "ed", w + w[-1] + "ing"})
    # agent nouns and informal forms are common in abuse ("fucker", "fuckin")
    forms.update([f[:-1] for f in forms if f.endswith("ing")])
    return frozenset(forms)
