"""Rule patterns run under a time limit: a pack pattern that backtracks costs one rule on one text,
never the server (Python's ``re`` held the GIL for minutes on ``(\\w+ ?)+!``)."""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from pathlib import Path

import pytest

from agent_monitor.errors import RulePackError
from agent_monitor.model.audio import Leg
from qa_rules.engine import load_rules
from qa_rules.packs import load_pack
from qa_rules.timed_regex import MATCH_LIMIT_S

SLOW_AND_PLAIN = """pack: t
version: 1.0.0
rules:
  - id: T-SLOW-1
    title: slow rule
    category: insult
    severity: orange
    languages: [en]
    leg: agent
    patterns: [{regex: '(?:x|x)+y'}]
    citation: none
    compliant: be polite
    examples: {positive: ["xy"], negative: ["hello"]}
  - id: T-ONE-1
    title: plain rule
    category: insult
    severity: orange
    languages: [en]
    leg: agent
    patterns: ["you idiot"]
    citation: none
    compliant: be polite
    examples: {positive: ["you idiot"], negative: ["hello"]}
"""


def test_a_pattern_that_backtracks_on_one_text_costs_that_rule_on_that_text(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``(?:x|x)+y`` passes the load-time check (nothing in the stress texts starts it off) and is
    exponential on a run of x: the rule is skipped there (logged once), the other rule still hits,
    the text takes about the time limit, and other threads run meanwhile (no GIL held)."""
    pack = tmp_path / "slow.yaml"
    pack.write_text(SLOW_AND_PLAIN, encoding="utf-8")
    rules = load_rules([pack], with_models=False)
    assert {h.rule for h in rules.check("x y xy", "en", Leg.AGENT)} == {"T-SLOW-1"}
    text = "you idiot " + "x" * 40
    ticks = 0
    done = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            time.sleep(0.005)

    counter = threading.Thread(target=count)
    counter.start()
    started = time.perf_counter()
    with caplog.at_level(logging.ERROR, logger="qa_rules.engine"):
        hits = rules.check(text, "en", Leg.AGENT)
        again = rules.check(text, "en", Leg.AGENT)
    took = time.perf_counter() - started
    done.set()
    counter.join()
    assert [h.rule for h in hits] == ["T-ONE-1"] == [h.rule for h in again]
    assert took < 2 * MATCH_LIMIT_S + 2.0, took  # twice the limit, not exponential time
    assert ticks >= 10, ticks  # the other thread ran while the pattern was searched
    matcher = rules.matcher("en", Leg.AGENT)
    assert matcher.timeouts == 2
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].startswith("rule T-SLOW-1 (") and "fix the pack" in errors[0]


def test_a_busy_server_does_not_make_a_shipped_pattern_backtrack(tmp_path: Path) -> None:
    """The load-time check timed a pattern by the time that passed, waits for the GIL included: with
    other threads running Python (a busy server), the shipped EN-CONTEMPT-1 (0.1 ms alone) was
    refused as taking over 0.05 s on most loads of ``en/abuse.yaml``. Its CPU time is what counts;
    a pattern that does backtrack is still refused under the same load."""
    shipped = Path(__file__).resolve().parents[2] / "qa_rules" / "packs" / "en" / "abuse.yaml"
    slow = tmp_path / "slow.yaml"
    slow.write_text(SLOW_AND_PLAIN.replace("(?:x|x)+y", "(?:a|aa)+$"), encoding="utf-8")
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            sum(range(100))

    spinners = [threading.Thread(target=spin) for _ in range(8)]
    for t in spinners:
        t.start()
    try:
        for _ in range(5):
            assert "EN-CONTEMPT-1" in {r.id for r in load_pack(shipped).rules}
        with pytest.raises(RulePackError, match="rule T-SLOW-1: field 'patterns': the pattern takes over"):
            load_rules([slow])
    finally:
        stop.set()
        for t in spinners:
            t.join()


RAW = """pack: t
version: 1.0.0
rules:
  - id: T-RAW-1
    title: raw rule
    category: insult
    severity: orange
    languages: [en]
    leg: agent
    patterns: [{regex: '\\bidiot\\b'}]
    citation: none
    compliant: be polite
    examples: {positive: ["you idiot"], negative: ["hello"]}
"""


def test_a_search_kept_waiting_for_the_gil_still_finds_its_hits(tmp_path: Path) -> None:
    """On the live path the rules run in a lane's thread beside other threads. A raw pattern's
    search releases the GIL while it matches; when another thread takes it meanwhile and keeps it
    (here Python's ``re`` backtracking for about 0.7 s, which never lets go), the search waits past
    the time limit and its rule was skipped on that text: the insult said, nothing reported, and
    the log blaming the pack. Each of 8 checks starts with such a thread waiting for the GIL; on
    the old code some of them found nothing (every one of 5 runs failed). Now all find both."""
    pack = tmp_path / "raw.yaml"
    pack.write_text(RAW, encoding="utf-8")
    rules = load_rules([pack], with_models=False)
    interval = sys.getswitchinterval()
    found = []
    for _ in range(8):
        go = threading.Event()

        def hold(go: threading.Event = go) -> None:
            while not go.is_set():
                time.sleep(0)  # lets the GIL go, and asks for it again at once
            re.match(r"(x+x+)+y", "x" * 25)  # Python's re keeps the GIL while it matches

        holder = threading.Thread(target=hold)
        holder.start()
        sys.setswitchinterval(5.0)  # the holder gets the GIL only when the search lets it go
        try:
            go.set()
            found.append([h.rule for h in rules.check("you idiot you idiot", "en", Leg.AGENT)])
        finally:
            sys.setswitchinterval(interval)
            holder.join()
    assert found == [["T-RAW-1", "T-RAW-1"]] * 8, found
    assert rules.matcher("en", Leg.AGENT).timeouts == 0
