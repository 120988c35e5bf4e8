"""A rule's own examples, judged as ``rules test`` judges them (:mod:`qa_rules.examples`), refuse a
pack where an admin puts it in (``rules lint``, the admin pack check and upload) and only warn where
packs already in use are loaded (the server's start, a rebuild with stored uploads): the real
engine, the shipped classifier, real pack files."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from agent_monitor.cli import main
from agent_monitor.model.stages import PackSelection, UploadedPack
from agent_monitor.settings import Settings
from qa_rules.engine import load_rules
from qa_rules.examples import run_examples
from qa_rules.live import LiveRules, PackChecker

COMMON = """    severity: yellow
    languages: [en]
    leg: agent
    citation: test
    compliant: say something else
"""
ABUSIVE = "Listen, lady, you have got to pay up already!"  # the shipped classifier fires on it
POLITE = "We can arrange a payment plan that fits your schedule."


def shop_pack(failing: bool = True, prefix: str = "SHOP") -> str:
    """A pack of a match, a must-say and a model rule, with 5 failing examples when ``failing``."""
    bad = [1] if failing else []

    def examples(positive: list[str], negative: list[str]) -> str:
        return f"    examples: {{positive: {json.dumps(positive)}, negative: {json.dumps(negative)}}}\n"

    match = f"  - id: {prefix}-MATCH-1\n    title: Name-calling\n    category: insult\n" + COMMON
    match += "    patterns: ['you idiot']\n"
    match += examples(
        ["you idiot"] + ["you moron" for _ in bad], ["hello"] + ["you idiot again" for _ in bad]
    )
    must = f"  - id: {prefix}-REC-1\n    title: Recording notice given\n    category: recording_notice\n"
    must += COMMON + "    kind: must_say\n    missed: 'Not said in {window} s'\n    label: Recording notice\n"
    must += "    patterns: ['call|conversation may|will|be ...2 record|monitor']\n"
    must += examples(["this call may be recorded"] + ["thanks for holding" for _ in bad], ["hi"])
    model = f"  - id: {prefix}-TONE-1\n    title: Abusive tone\n    category: abusive_tone\n" + COMMON
    model += "    kind: model\n    model: abuse-en\n"
    model += examples([POLITE], [ABUSIVE]) if failing else examples([ABUSIVE], [POLITE])
    return f"pack: {prefix.lower()}\nversion: 1.0.0\nrules:\n" + match + must + model


FAILING = shop_pack()
#: how each failing example of FAILING is named
FAILURES = [
    "rule SHOP-MATCH-1 [en] example 'you moron': expected a hit, got none",
    "rule SHOP-MATCH-1 [en] example 'you idiot again': expected no hit, got one",
    "rule SHOP-REC-1 [en] example 'thanks for holding': expected a hit, got none",
    f"rule SHOP-TONE-1 [en] example {POLITE!r}: expected a hit, got none",
    f"rule SHOP-TONE-1 [en] example {ABUSIVE!r}: expected no hit, got one",
]


def write(folder: Path, text: str, name: str = "shop.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def with_packs(settings: Settings, *packs: Path) -> Settings:
    rules = settings.rules.model_copy(update={"packs": list(packs)})
    return settings.model_copy(update={"rules": rules})


def test_lint_refuses_a_pack_whose_examples_fail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, FAILING)
    assert main(["rules", "lint", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"ok {path}: pack shop 1.0.0, 3 rules"
    assert out[1:] == [
        f"FAIL {path}: SHOP-MATCH-1 [en] should fire: you moron",
        f"FAIL {path}: SHOP-MATCH-1 [en] should not fire: you idiot again",
        f"FAIL {path}: SHOP-REC-1 [en] should fire: thanks for holding",
        f"FAIL {path}: SHOP-TONE-1 [en] should fire: {POLITE}",
        f"FAIL {path}: SHOP-TONE-1 [en] should not fire: {ABUSIVE}",
        "9 examples, 4 passed, 5 failed",
    ]
    write(tmp_path, shop_pack(failing=False))
    assert main(["rules", "lint", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "6 examples, 6 passed, 0 failed"


def test_the_admin_check_lists_the_failing_examples(base_settings: Settings) -> None:
    check = PackChecker(base_settings).lint(FAILING)
    assert not check.ok and check.file == "pack.yaml"
    assert (check.name, check.version, check.rules) == ("shop", "1.0.0", 3)
    assert check.error == "5 examples of its rules fail: " + "; ".join(FAILURES)
    assert PackChecker(base_settings).lint(shop_pack(failing=False)).ok


def test_more_failing_examples_are_counted(base_settings: Settings) -> None:
    more = FAILING.replace('negative: ["hi"]', 'negative: ["this call will be recorded", "hi"]')
    error = PackChecker(base_settings).lint(more).error or ""
    assert error.startswith("6 examples of its rules fail: ") and error.endswith("; and 1 more"), error
    assert "\n" not in error and "/tmp" not in error


def test_a_model_rule_needs_its_model_to_be_checked(tmp_path: Path, base_settings: Settings) -> None:
    """Without the model no example of a model rule is run (they would all fail); with a model
    folder that lacks it the pack check says so (before, only the upload's rebuild did)."""
    ruleset = load_rules([write(tmp_path, FAILING)], with_models=False)
    assert {r.rule for r in run_examples(ruleset)} == {"SHOP-MATCH-1", "SHOP-REC-1"}
    rules = base_settings.rules.model_copy(update={"model_dir": tmp_path})
    check = PackChecker(base_settings.model_copy(update={"rules": rules})).lint(FAILING)
    assert not check.ok and check.error is not None and "model file not found" in check.error, check


def test_the_server_start_warns_and_keeps_the_pack(
    tmp_path: Path, base_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """An installed pack whose examples fail (the code or a model changed under it) is used, and
    each failing example is logged once, as a warning (the preflight and the start load it twice)."""
    path = write(tmp_path, FAILING)
    settings = with_packs(base_settings, path)
    with caplog.at_level(logging.WARNING, logger="qa_rules.examples"):
        rules = LiveRules.from_settings(settings)
        LiveRules.from_settings(settings)
    assert [r.id for r in rules.ruleset.rules] == ["SHOP-MATCH-1", "SHOP-REC-1", "SHOP-TONE-1"]
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warned == [
        f"rule pack {path}: {f}; the rule stays in use (see agent-monitor rules test)" for f in FAILURES
    ]


def test_stored_uploads_warn_when_rebuilt(
    tmp_path: Path, base_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """A stored upload whose examples fail now (at the start, a roll back) is built and warned about,
    named as the admin knows it; the installed files' examples are not run again (the start's
    LiveRules.from_settings warned about them)."""
    installed = write(tmp_path, shop_pack(prefix="BASE"))
    checker = PackChecker(with_packs(base_settings, installed))
    selection = PackSelection(uploaded=(UploadedPack("shop", 7, FAILING),))
    with caplog.at_level(logging.WARNING, logger="qa_rules.examples"):
        rules = checker.build(selection)
    assert len(rules.ruleset.rules) == 6
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warned == [
        f"rule pack shop v7: {f}; the rule stays in use (see agent-monitor rules test)" for f in FAILURES
    ]
