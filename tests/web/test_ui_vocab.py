"""One vocabulary from the enums to the pages: the scripts read levels, roles and legs from the
vocabulary every page carries (:mod:`web.ui.vocab`), never from copies of their own."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent_monitor.model.audio import Leg
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.roles import Role
from agent_monitor.settings import Settings
from tests.web.js_support import hard_coded, tokens
from tests.web.ui_support import USERS, login, ui_server

STATIC = Path(__file__).resolve().parents[2] / "web" / "ui" / "static"
LEVELS = frozenset(lv.value for lv in WarningLevel)
ROLES = frozenset(r.value for r in Role)
#: the translation tables are keyed by the names they translate: checked for completeness instead
TRANSLATIONS = "i18n.js"


def scripts() -> list[Path]:
    found = sorted(p for p in STATIC.glob("*.js") if p.name != TRANSLATIONS)
    assert len(found) >= 6, f"page scripts missing under {STATIC}"
    return found


@pytest.mark.parametrize("script", scripts(), ids=lambda p: p.name)
def test_no_script_hard_codes_levels_or_roles(script: Path) -> None:
    src = script.read_text(encoding="utf-8")
    problems = [f"levels {p}" for p in hard_coded(src, LEVELS)]
    problems += [f"roles {p}" for p in hard_coded(src, ROLES)]
    assert not problems, f"{script.name} copies the vocabulary (use AM.vocab): {problems}"


def test_the_check_finds_copies_and_passes_single_uses() -> None:
    """The check above fails on what the scripts used to do, and not on a lone name used otherwise."""
    copies = {
        '["red", "orange", "yellow"].map((l) => l)': LEVELS,
        'const COLORS = { none: "#9aa3b2", yellow: "#e3b400" };': LEVELS,
        'el("select", {}, ...["agent", "supervisor", "qa", "admin"].map(f));': ROLES,
        "const NAV = { agent: [1], supervisor: [2] };": ROLES,
        'if (AM.user.role !== "supervisor") load();': ROLES,
        'switch (x) { case "red": break; }': LEVELS,
    }
    for src, names in copies.items():
        assert hard_coded(src, names), src
    fine = [
        'svg("rect", { fill: "none", stroke: "#7a2bd6" }); t("agent"); s.replace(/"red"|"orange"/, "");',
        'el("tr", {}, ...["call", "agent", "level", "rule"].map((k) => t(k)));',
        "const x = a ? yellow : red; // red, orange, yellow",
    ]
    for src in fine:
        assert not hard_coded(src, LEVELS) and not hard_coded(src, ROLES), src


def _translation_keys(lang: str) -> set[str]:
    src = (STATIC / TRANSLATIONS).read_text(encoding="utf-8")
    block = re.search(rf"\n  {lang}: \{{(.*?)\n  \}}", src, re.S)
    assert block is not None, f"no {lang} table in {TRANSLATIONS}"
    toks = tokens(block.group(1))
    return {t.text for k, t in enumerate(toks[:-1]) if t.kind == "id" and toks[k + 1].text == ":"}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_level_role_and_leg_has_a_label(lang: str) -> None:
    keys = _translation_keys(lang)
    wanted = LEVELS | {f"role_{r}" for r in ROLES} | {leg.value for leg in Leg}
    assert wanted <= keys, f"{lang}: no label for {sorted(wanted - keys)}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, base_settings: Settings) -> Iterator[str]:
    with ui_server(base_settings, tmp_path_factory.mktemp("vocab")) as (url, _app):
        yield url


def _page_vocab(html: str) -> Any:
    m = re.search(r'<script id="am-vocab" type="application/json">(.*?)</script>', html, re.S)
    assert m is not None, "the page carries no vocabulary"
    return json.loads(m.group(1))


def test_every_page_serves_the_vocabulary_of_the_enums(server: str) -> None:
    expected = {
        "levels": ["none", "yellow", "orange", "red"],
        "level_rank": {"none": 0, "yellow": 1, "orange": 2, "red": 3},
        "no_level": "none",
        "warning_levels": ["yellow", "orange", "red"],
        "roles": {"AGENT": "agent", "SUPERVISOR": "supervisor", "QA": "qa", "ADMIN": "admin"},
        "legs": {"AGENT": "agent", "DEBTOR": "debtor"},
    }
    assert expected["levels"] == [lv.value for lv in WarningLevel]
    assert expected["level_rank"] == {lv.value: lv.rank for lv in WarningLevel}
    assert expected["roles"] == {r.name: r.value for r in Role}
    seen_roles = set()
    with httpx.Client(base_url=server, follow_redirects=True) as client:
        for username, (role, _agent, _team) in USERS.items():
            login(client, username)
            page = client.get("/")
            assert page.status_code == 200, (username, page.text)
            vocab = _page_vocab(page.text)
            assert {k: vocab[k] for k in expected} == expected, username
            assert set(vocab["level_colours"]) == set(expected["levels"])
            assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in vocab["level_colours"].values())
            assert set(vocab["role_pages"]) == set(expected["roles"].values())
            assert page.url.path.lstrip("/") in vocab["role_pages"][role], username
            seen_roles.add(role)
    assert seen_roles == set(Role)
