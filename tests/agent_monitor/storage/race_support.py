"""Run jobs at the same moment (threads released together by a barrier), for the tests of two
requests at once: a double click, a second tab, two supervisors or admins at one record."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any


def at_once(jobs: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run every job in its own thread, all released together; returns what each returned or
    raised, in the order of ``jobs`` (an exception is returned, not raised)."""
    start = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(n: int, job: Callable[[], Any]) -> None:
        try:
            start.wait(timeout=10)
            results[n] = job()
        except BaseException as exc:  # reported by the test, not lost in the thread
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n, job)) for n, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def failures(results: list[Any], *expected: type[BaseException]) -> list[BaseException]:
    """The exceptions among ``results`` that are not of the ``expected`` types."""
    return [r for r in results if isinstance(r, BaseException) and not isinstance(r, expected)]
