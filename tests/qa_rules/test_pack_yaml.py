"""A pack file's YAML is read strictly: a mapping key given twice (YAML itself keeps the last one,
so an admin lost a whole rule list without a word) is refused naming the file, the line and the key;
at load, by ``rules lint`` and (tests/web/test_rule_pack_admin.py) by the admin upload."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_monitor.cli import main
from agent_monitor.errors import RulePackError
from qa_rules.engine import load_rules

HEAD = "pack: t\nversion: 1.0.0\n"
RULE = """  - id: T-ONE-1
    title: test rule
    category: insult
    severity: orange
    languages: [en]
    leg: agent
    patterns: ["you idiot"]
    citation: FDCPA 806(2)
    compliant: be polite
    examples: {positive: ["you idiot"], negative: ["hello"]}
"""
RULE_2 = RULE.replace("T-ONE-1", "T-TWO-1").replace("you idiot", "you moron")


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "pack.yaml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # the second list replaced the first: T-ONE-1 was gone without a word
        (HEAD + "rules:\n" + RULE + "rules:\n" + RULE_2, "field 'rules': key given twice (lines 3 and 14)"),
        (
            HEAD + "rules:\n" + RULE.replace("    citation:", "    patterns: ['you moron']\n    citation:"),
            "rule T-ONE-1: field 'patterns': key given twice (lines 10 and 11)",
        ),
        (
            HEAD + "lists:\n  insult: [idiot]\n  insult: [moron]\nrules:\n" + RULE,
            "field 'lists.insult': key given twice (lines 4 and 5)",
        ),
        (
            HEAD + "rules:\n" + RULE.replace('negative: ["hello"]}', 'negative: ["hello"], positive: ["x"]}'),
            "rule T-ONE-1: field 'examples.positive': key given twice (line 13)",
        ),
        (
            HEAD + "rules:\n" + RULE + "  - title: a\n    title: b\n",
            "rule #2: field 'title': key given twice",
        ),
        (HEAD + "version: 1.0.1\nrules:\n" + RULE, "field 'version': key given twice (lines 2 and 3)"),
    ],
)
def test_a_key_given_twice_is_refused_with_its_line(tmp_path: Path, body: str, expected: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(RulePackError) as err:
        load_rules([path])
    message = str(err.value)
    assert message.startswith(f"{path}: ") and expected in message, message
    assert "YAML would keep only the last one" in message and "\n" not in message


def test_a_merged_mapping_may_still_be_overridden(tmp_path: Path) -> None:
    """``<<: *anchor`` then a key of its own is YAML's way to reuse a rule: not a key given twice."""
    body = HEAD + "rules:\n" + RULE.replace("  - id: T-ONE-1", "  - &one\n    id: T-ONE-1")
    body += "  - <<: *one\n    id: T-TWO-1\n    title: second rule\n"
    rules = load_rules([write(tmp_path, body)]).rules
    assert [(r.id, r.title) for r in rules] == [("T-ONE-1", "test rule"), ("T-TWO-1", "second rule")]


def test_yaml_nested_too_deeply_is_a_pack_error(tmp_path: Path) -> None:
    """It was a RecursionError: a traceback at the command line, a 500 from the admin upload."""
    with pytest.raises(RulePackError, match="invalid YAML: nested too deeply"):
        load_rules([write(tmp_path, "[" * 100_000)])


def test_lint_refuses_a_key_given_twice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, HEAD + "rules:\n" + RULE + "rules:\n" + RULE_2)
    assert main(["rules", "lint", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (
        f"agent-monitor: error: {path}: field 'rules': key given twice (lines 3 and 14): "
        "YAML would keep only the last one"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-02-30", "line 3: '2026-02-30' is not a valid timestamp (day is out of range for month)"),
        ("9" * 5000, "line 3: '" + "9" * 40 + "...' is not a valid int (more than 4300 digits)"),
        ("!!int abc", "line 3: 'abc' is not a valid int"),
        ("!!bool maybe", "line 3: 'maybe' is not a valid bool"),
    ],
)
def test_a_value_yaml_cannot_build_is_a_pack_error_with_its_line(
    tmp_path: Path, value: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """YAML's constructors failed with a Python error (ValueError, KeyError, ...) on a date that is
    no date or an integer of more than 4300 digits: a traceback from ``rules lint`` and a 500 from
    the admin's lint, try and upload routes (tests/web/test_admin_api.py)."""
    path = write(tmp_path, HEAD + f"description: {value}\nrules:\n" + RULE)
    with pytest.raises(RulePackError) as err:
        load_rules([path])
    assert str(err.value) == f"{path}: invalid YAML at {expected}", str(err.value)
    assert main(["rules", "lint", str(path)]) == 1
    assert capsys.readouterr().err.strip() == f"agent-monitor: error: {path}: invalid YAML at {expected}"
