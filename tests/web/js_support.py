"""A small JavaScript scanner for the vocabulary check: which scripts hard-code level or role names.

:func:`tokens` splits a script into string literals, identifiers, numbers, regular expressions
and punctuation (comments dropped); :func:`hard_coded` reports, for a set of names (the values of
one enum), every place a script spells them out instead of reading them from ``AM.vocab``:

- a list: one array, object, argument list or block that holds two or more of the names directly
  (as string literals or as object keys), e.g. ``["red", "orange"]`` or ``{ none: "#9aa", red: ... }``;
- a comparison with one name: ``x === "supervisor"``, ``"red" != x``, ``case "qa":``.

A single name used otherwise (``fill: "none"`` as an SVG attribute, ``t("agent")`` as a label key)
is not reported: it is not a copy of the vocabulary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PUNCT = re.compile(r"===|!==|==|!=|=>|\.\.\.|&&|\|\||[{}\[\]();,:?.=+\-*/%!<>&|^~]")
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_NUMBER = re.compile(r"\d[\w.]*")
#: after these a ``/`` starts a regular expression (elsewhere it divides)
_REGEX_AFTER = set("(,=:[!&|?{};") | {"===", "!==", "==", "!=", "=>", "&&", "||", "return"}
_COMPARE = {"===", "!==", "==", "!="}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # "str", "id", "num", "re", "p"
    text: str
    line: int


def _skip_string(src: str, i: int) -> int:
    """Index just past the string literal (or template) starting at ``src[i]``."""
    quote, i = src[i], i + 1
    while i < len(src) and src[i] != quote:
        i += 2 if src[i] == "\\" else 1
    return i + 1


def _skip_regex(src: str, i: int) -> int:
    i, in_class = i + 1, False
    while i < len(src):
        c = src[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            in_class = True
        elif c == "]":
            in_class = False
        elif c == "/" and not in_class:
            break
        i += 1
    i += 1
    while i < len(src) and src[i].isalpha():  # flags
        i += 1
    return i


def tokens(src: str) -> list[Token]:
    out: list[Token] = []
    i = 0
    while i < len(src):
        c, line = src[i], src.count("\n", 0, i) + 1
        if c.isspace():
            i += 1
        elif src.startswith("//", i):
            i = src.find("\n", i) if "\n" in src[i:] else len(src)
        elif src.startswith("/*", i):
            i = src.index("*/", i) + 2
        elif c in "\"'`":
            end = _skip_string(src, i)
            out.append(Token("str", src[i + 1 : end - 1], line))
            i = end
        elif c == "/" and (not out or out[-1].text in _REGEX_AFTER):
            end = _skip_regex(src, i)
            out.append(Token("re", src[i:end], line))
            i = end
        elif m := _IDENT.match(src, i):
            out.append(Token("id", m.group(), line))
            i = m.end()
        elif m := _NUMBER.match(src, i):
            out.append(Token("num", m.group(), line))
            i = m.end()
        elif m := _PUNCT.match(src, i):
            out.append(Token("p", m.group(), line))
            i = m.end()
        else:
            raise ValueError(f"line {line}: cannot read {src[i : i + 20]!r}")
    return out


def _names_in_regions(toks: list[Token], names: frozenset[str]) -> list[tuple[int, list[str]]]:
    """(line, names) of every bracketed region holding two or more different ``names`` directly."""
    found: list[tuple[int, list[str]]] = []
    stack: list[tuple[int, list[str]]] = [(1, [])]
    for k, tok in enumerate(toks):
        if tok.kind == "p" and tok.text in "([{":
            stack.append((tok.line, []))
        elif tok.kind == "p" and tok.text in ")]}":
            line, held = stack.pop() if len(stack) > 1 else stack[0]
            if len(set(held)) >= 2:
                found.append((line, sorted(set(held))))
        elif tok.text in names and (tok.kind == "str" or _is_key(toks, k)):
            stack[-1][1].append(tok.text)
    return found


def _is_key(toks: list[Token], k: int) -> bool:
    """Whether identifier ``toks[k]`` is an object key (``{ key: ...`` or ``, key: ...``)."""
    if toks[k].kind != "id" or k == 0 or k + 1 >= len(toks):
        return False
    return toks[k + 1].text == ":" and toks[k - 1].text in ("{", ",")


def _comparisons(toks: list[Token], names: frozenset[str]) -> list[tuple[int, str]]:
    found = []
    for k, tok in enumerate(toks):
        if tok.kind != "str" or tok.text not in names:
            continue
        before = toks[k - 1].text if k else ""
        after = toks[k + 1].text if k + 1 < len(toks) else ""
        if before in _COMPARE or after in _COMPARE or before == "case":
            found.append((tok.line, tok.text))
    return found


def hard_coded(src: str, names: frozenset[str]) -> list[str]:
    """Where ``src`` spells out ``names`` (see the module documentation); empty when it does not."""
    toks = tokens(src)
    problems = [f"line {line}: a list of {', '.join(held)}" for line, held in _names_in_regions(toks, names)]
    problems += [f"line {line}: compared with {name!r}" for line, name in _comparisons(toks, names)]
    return problems
