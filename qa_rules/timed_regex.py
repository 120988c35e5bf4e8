"""Rule patterns with raw regular expressions run under a time limit.

A pack may hold raw regular expressions (``{regex: ...}``), and a careless one backtracks
exponentially (``(?:a|aa)+$`` on a long run of one letter). Python's ``re`` cannot be stopped and
holds the GIL while it matches, so one such pattern froze a whole server, every call and every page
(found by probing: ``/healthz`` went unanswered for 90 s). A rule whose patterns include a raw
regular expression is therefore compiled with the ``regex`` module, which matches without holding
the GIL (``concurrent=True``) and gives up after a timeout:

* when a pack loads, such a pattern is run over a few long utterances (:data:`STRESS`), and one
  that needs more than :data:`LOAD_LIMIT_S` of its thread's CPU time on one of them (or runs past
  :data:`WALL_LIMIT_S`) is refused, naming the rule. CPU time, not the time that passed:
  ``regex``'s own timeout counts the waits for the GIL between matches too, so on a busy server
  (other threads running Python) the shipped EN-CONTEMPT-1 (0.1 ms alone) was refused as
  backtracking, failing rule pack checks, uploads and switches;
* on every text, a search that needs more than :data:`MATCH_LIMIT_S` of its thread's CPU time
  raises :class:`~agent_monitor.errors.RulePatternTimeoutError`; the matcher skips that rule for
  that text and logs it, and checks the other rules. CPU time here too: on the live path the rules
  run in a lane's thread beside the other lanes, and with 8 threads running Python beside it 32 of
  4,667 searches of the shipped raw patterns passed 0.25 s of elapsed time (slowest 0.53 s) and
  were skipped, their abuse unreported (2026-12-06, ``regex`` timing elapsed time).

Both checks work the same way (:meth:`TimedPattern._limited`): ``regex`` stops a search at a
wall-clock limit; one stopped there that used under half of it as CPU was kept waiting (for the
GIL or a core) rather than working, and runs once more with :data:`WALL_LIMIT_S` to spare, judged
by its CPU time.

Patterns built from the pack language alone (words, lists, optional words, gaps of at most
``MAX_GAP`` words that always end in a space) cannot backtrack that way and keep Python's ``re``,
which is faster: EN-CONTEMPT-1's pattern takes 2.5 us per utterance on ``re``, 7.7 us on ``regex``
and 11 us with the time limit (2026-12-04). Over the shipped packs ``benchmarks/bench_rules.py``
went from 8,700 to 6,400 English and from 2,780 to 2,550 Chinese utterances per second per core.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TypeVar

import regex

from agent_monitor.errors import RulePackError, RulePatternTimeoutError
from qa_rules.patterns import Compiled

#: the most CPU time (of the thread searching) one search of one rule may take on one text
MATCH_LIMIT_S = 0.25
#: the most CPU time a pattern may take on one of the :data:`STRESS` texts when its pack loads
LOAD_LIMIT_S = 0.05
#: the longest a search kept waiting runs the second time, waits included (a pattern that
#: backtracks never ends: this stops it on a machine too busy to give it its CPU time)
WALL_LIMIT_S = 2.0
#: long, repetitive utterances (prepared text: English tokens joined by spaces, Chinese without)
#: on which a backtracking pattern shows itself
STRESS = {
    "en": (
        " ".join(["a"] * 60),
        "a" * 60,
        "a" * 40 + "!",
        " ".join(["you are a"] * 20),
        " ".join(["you are a"] * 15) + " !",
        " ".join(["1"] * 40),
        "1" * 40 + "!",
    ),
    "zh": ("啊" * 80, "啊" * 50 + "!", "你是" * 40, "1" * 60),
}


Match = re.Match[str] | regex.Match[str]
T = TypeVar("T")


class TimedPattern:
    """A compiled rule pattern; with a raw regular expression in it, its searches stop after
    :data:`MATCH_LIMIT_S`."""

    __slots__ = ("_pattern", "_timed", "rule")

    def __init__(self, compiled: Compiled, rule: str) -> None:
        self._timed = compiled.raw
        self._pattern: re.Pattern[str] | regex.Pattern[str] = (
            regex.compile(compiled.source) if compiled.raw else re.compile(compiled.source)
        )
        self.rule = rule

    def finditer(self, text: str) -> list[Match]:
        """Every match in ``text``; :class:`RulePatternTimeoutError` past the time limit."""
        return self._all(text, MATCH_LIMIT_S)

    def search(self, text: str) -> Match | None:
        pattern = self._pattern
        if not isinstance(pattern, regex.Pattern):
            return pattern.search(text)
        return self._limited(
            lambda limit: pattern.search(text, concurrent=True, timeout=limit), text, MATCH_LIMIT_S
        )

    def check_speed(self, lang: str, src: str, field: str) -> None:
        """Refuse (:class:`RulePackError`) a raw pattern that backtracks on the :data:`STRESS` texts."""
        if not self._timed:
            return
        for text in STRESS.get(lang, ()):
            if self._backtracks(text):
                raise RulePackError(
                    src,
                    f"the pattern takes over {LOAD_LIMIT_S:g} s on a {len(text)}-character utterance "
                    "(it backtracks: a repetition inside a repetition, or alternatives that match the "
                    "same text, under * or +)",
                    rule=self.rule,
                    field=field,
                )

    def _backtracks(self, text: str) -> bool:
        """Whether the search over ``text`` takes more than :data:`LOAD_LIMIT_S` of CPU time."""
        try:
            self._all(text, LOAD_LIMIT_S)
        except RulePatternTimeoutError:
            return True
        return False

    def _all(self, text: str, limit_s: float) -> list[Match]:
        pattern = self._pattern
        if not isinstance(pattern, regex.Pattern):
            return list(pattern.finditer(text))
        return self._limited(
            lambda limit: list(pattern.finditer(text, concurrent=True, timeout=limit)), text, limit_s
        )

    def _limited(self, run: Callable[[float], T], text: str, limit_s: float) -> T:
        """``run(wall_limit)`` judged by this thread's CPU time (the GIL released, ``regex`` still
        matches in this thread): stopped at ``limit_s`` of wall time having used half of it as CPU,
        it is too slow; having used less, it was kept waiting and runs once more with
        :data:`WALL_LIMIT_S` to spare, too slow if it needs more than ``limit_s`` of CPU then."""
        started = time.thread_time()
        try:
            return run(limit_s)
        except TimeoutError:
            if time.thread_time() - started >= limit_s / 2:
                raise self._timeout(text, limit_s) from None
        started = time.thread_time()
        try:
            found = run(WALL_LIMIT_S)
        except TimeoutError:
            raise self._timeout(text, limit_s) from None
        if time.thread_time() - started > limit_s:
            raise self._timeout(text, limit_s)
        return found

    def _timeout(self, text: str, limit_s: float) -> RulePatternTimeoutError:
        return RulePatternTimeoutError(
            "rule pattern", f"ran over {limit_s:g} s on a {len(text)}-character text", rule=self.rule
        )
