"""``rules test`` and ``rules lint``: every rule's positive and negative examples run through the
engine (by :mod:`qa_rules.examples`, the judge the admin pack check and the server's start use too),
reported one line per failing example and a count."""

from __future__ import annotations

from qa_rules.examples import ExampleResult


def report(results: list[ExampleResult]) -> list[str]:
    """``FAIL file: RULE [lang] should fire: text`` for each failing example, then the count."""
    failed = [r for r in results if not r.ok]
    lines = []
    for r in failed:
        want = "should fire" if r.expected else "should not fire"
        lines.append(f"FAIL {r.source}: {r.rule} [{r.lang}] {want}: {r.text}")
    lines.append(f"{len(results)} examples, {len(results) - len(failed)} passed, {len(failed)} failed")
    return lines
