"""Colour contrast of the interface (WCAG 2.1 AA, 1.4.3): every text colour of ``style.css`` (with
the level colours served by ``web/ui/vocab.py``) on
the background it is drawn on has a contrast ratio of at least 4.5:1.

The pairs are computed from the stylesheet itself: for every rule that sets ``color`` or a solid
``background``, the text colour is the rule's own, else that of the same element with fewer classes
(``.badge.orange`` -> ``.badge``), else an ancestor's (``header#topbar a`` -> ``header#topbar``),
else the body's; the background likewise, and where no rule paints one the text is checked on every
surface of the pages (page, card, panel backgrounds)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from web.ui.vocab import LEVEL_COLOURS

CSS = Path(__file__).resolve().parents[2] / "web" / "ui" / "static" / "style.css"
AA = 4.5
#: painted shapes that hold no text (the stress gauge's bar, the review's playhead and axis ticks)
NO_TEXT = re.compile(r"^\.gauge\b|^svg\.|^\.wave-head\b|\.tick::before$")
_BLOCK = re.compile(r"([^{}]+)\{([^{}]*)\}")
_HEX = re.compile(r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")


def luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    channels = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def parse(css: str) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """(variables of :root, selector -> {"color": hex, "background": hex}) with var() resolved;
    backgrounds that are not one solid colour (rgba, gradients, none) are left out."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    blocks = [(sel.strip(), body) for sel, body in _BLOCK.findall(css)]
    # the level colours are served from Python (web/ui/vocab.py) and set as these variables by common.js
    variables: dict[str, str] = {f"--{level.value}": colour for level, colour in LEVEL_COLOURS.items()}
    for sel, body in blocks:
        if sel == ":root":
            variables.update(dict(re.findall(r"(--[\w-]+)\s*:\s*([^;]+);", body)))

    def resolve(value: str) -> str | None:
        if any(name not in variables for name in re.findall(r"var\((--[\w-]+)\)", value)):
            return None  # a colour a script sets per element (e.g. a waveform marker's --c)
        value = re.sub(r"var\((--[\w-]+)\)", lambda m: variables[m.group(1)].strip(), value).strip()
        return value if _HEX.fullmatch(value) else None

    rules: dict[str, dict[str, str]] = {}
    for sel, body in blocks:
        decls = dict((k.strip(), v.strip()) for k, v in re.findall(r"([\w-]+)\s*:\s*([^;]+)", body))
        found = {}
        for prop, key in (
            ("color", "color"),
            ("background", "background"),
            ("background-color", "background"),
        ):
            if prop in decls and (colour := resolve(decls[prop])):
                found[key] = colour.lower()
        if not found:
            continue
        for one in sel.split(","):
            one = re.sub(r":(?:hover|focus-visible|focus)\b", "", one.strip())
            rules.setdefault(one, {}).update(found)
    return {k: v.strip() for k, v in variables.items()}, rules


def _fewer_classes(selector: str) -> str | None:
    *ancestors, last = selector.split()
    trimmed = re.sub(r"\.[\w-]+$", "", last)
    if trimmed == last or not trimmed:
        return None
    return " ".join([*ancestors, trimmed])


def effective(rules: dict[str, dict[str, str]], selector: str, prop: str) -> str | None:
    own = rules.get(selector, {}).get(prop)
    if own:
        return own
    base = _fewer_classes(selector)
    if base is not None and (found := effective(rules, base, prop)):
        return found
    parts = selector.replace(">", " ").split()
    for i in range(len(parts) - 1, 0, -1):
        if found := effective(rules, " ".join(parts[:i]), prop):
            return found
    return None


def pairs() -> list[tuple[str, str, str]]:
    variables, rules = parse(CSS.read_text(encoding="utf-8"))
    body_fg = variables["--fg"].lower()
    surfaces = {variables["--bg"].lower(), variables["--card"].lower(), "#fafbfc"}
    out = []
    for selector in rules:
        if selector in (":root", "body") or NO_TEXT.search(selector):
            continue
        fg = effective(rules, selector, "color") or body_fg
        bg = effective(rules, selector, "background")
        for back in [bg] if bg else sorted(surfaces):
            out.append((selector, fg, back))
    return out


def test_the_stylesheet_is_parsed() -> None:
    found = {sel: (fg, bg) for sel, fg, bg in pairs()}
    # the pairs the issue measured are among them
    assert ".badge.orange" in found and ".badge" in found and "header#topbar a" in found
    assert found["header#topbar a"][1] == "#1d2430"  # background of the ancestor
    assert len(found) >= 30


@pytest.mark.parametrize(("selector", "fg", "bg"), pairs(), ids=lambda v: str(v))
def test_text_contrast_meets_wcag_aa(selector: str, fg: str, bg: str) -> None:
    ratio = contrast(fg, bg)
    assert ratio >= AA, f"{selector}: {fg} on {bg} is {ratio:.2f}:1 (AA needs {AA}:1)"


def test_contrast_formula() -> None:
    assert contrast("#ffffff", "#000000") == pytest.approx(21.0)
    assert contrast("#ffffff", "#ef7d1a") == pytest.approx(2.76, abs=0.01)  # the old orange badge
    assert contrast("#ffffff", "#9aa3b2") == pytest.approx(2.54, abs=0.01)  # the old grey badge
