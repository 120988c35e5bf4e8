"""Cost of sealing finished QA reviews: finishing a review, and ``db verify`` over many reviews.

    python benchmarks/bench_review_seal.py [--reviews 2000] [--reopen 200] [--verify-runs 3] [--url URL]

Into a new SQLite database under a temporary folder (or the empty database at ``--url``, e.g. a
PostgreSQL one): ``--reviews`` calls, each with one alert, and one review per call finished the
way the QA page saves it (``repo.save_review`` with every item of the current form scored, a
verdict on the alert, notes and ``done``; one transaction each). Prints the median and 90th
percentile milliseconds of a transaction that finishes a review, of one that saves a finished
review as a draft again (it reopens it; the last ``--reopen`` reviews, finished again afterwards),
and the seconds the database checks of ``agent-monitor db verify`` take over all of it (every hash
chain, the evidence rows and, where the code seals them, the reviews; median of ``--verify-runs``),
with the share of the two review checks (the seal chain, the reviews against their seals) where
the checkout has them: run it in a checkout from before review sealing to compare.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from agent_monitor.model.levels import WarningLevel  # noqa: E402
from agent_monitor.settings import Settings  # noqa: E402
from agent_monitor.storage import repo  # noqa: E402
from agent_monitor.storage.engine import Database  # noqa: E402
from agent_monitor.storage.evidence import verify_all  # noqa: E402
from agent_monitor.storage.migrate import upgrade_database  # noqa: E402

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _calls(db: Database, n: int) -> list[tuple[str, int]]:
    """``n`` calls with one alert each, 100 to a transaction; (call id, alert id) of each."""
    out: list[tuple[str, int]] = []
    for first in range(0, n, 100):
        with db.session() as s:
            for i in range(first, min(n, first + 100)):
                call_id = f"call-{i:06d}"
                repo.start_call(s, call_id, f"A{i % 50}", source_protocol="ws_ingest", started_at=T0)
                alert = repo.raise_alert(s, call_id, WarningLevel.ORANGE, [{"rule": "x"}], raised_at_s=1.0)
                out.append((call_id, alert.id))
    return out


def _card(db: Database) -> dict[str, Any]:
    with db.session() as s:
        form = repo.to_form(repo.current_form(s))
    return {item.key: item.max for item in form.items}


def _timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _save(db: Database, call_id: str, alert_id: int, card: dict[str, Any], *, done: bool) -> None:
    with db.session() as s:
        repo.save_review(
            s,
            call_id,
            "qa1",
            scorecard=card,
            notes=f"checked {call_id}: greeting, disclosure and tone as required",
            verdicts={alert_id: "confirmed"},
            done=done,
        )


def _ms(took: list[float]) -> str:
    p90 = statistics.quantiles(took, n=10)[-1] if len(took) >= 10 else max(took)
    return f"median {1000 * statistics.median(took):.2f} ms, p90 {1000 * p90:.2f} ms"


def _verify(db: Database) -> tuple[float, int]:
    with db.session() as s:
        started = time.perf_counter()
        reports = verify_all(s)
        took = time.perf_counter() - started
    problems = sum(len(r.problems) for r in reports)
    return took, problems


def _review_parts(db: Database) -> str:
    """The seconds of the two review checks, where this checkout has them (not before sealing)."""
    try:
        from agent_monitor.storage.chain import verify_chain
        from agent_monitor.storage.review_seal import CHAIN, verify_reviews
    except ImportError:
        return "no review seal in this checkout"
    with db.session() as s:
        started = time.perf_counter()
        verify_chain(s, CHAIN)
        chain_s = time.perf_counter() - started
        verify_reviews(s)
        reviews_s = time.perf_counter() - started - chain_s
    return f"of which the {CHAIN} chain {chain_s:.3f} s, reviews against their seals {reviews_s:.3f} s"


def run(db: Database, args: argparse.Namespace) -> None:
    calls = _calls(db, args.reviews)
    card = _card(db)
    finish = [_timed(partial(_save, db, c, a, card, done=True)) for c, a in calls]
    reopen = []
    for call_id, alert_id in calls[-args.reopen :]:
        reopen.append(_timed(partial(_save, db, call_id, alert_id, card, done=False)))
        _save(db, call_id, alert_id, card, done=True)
    print(f"finishing a review ({len(finish)} reviews): {_ms(finish)}")
    print(f"  first 100: {_ms(finish[:100])}; last 100: {_ms(finish[-100:])}")
    print(f"reopening a finished review (draft save, {len(reopen)}): {_ms(reopen)}")
    runs = [_verify(db) for _ in range(args.verify_runs)]
    problems = {p for _, p in runs}
    print(
        f"db verify's database checks over {args.reviews} finished reviews: median"
        f" {statistics.median(t for t, _ in runs):.3f} s of {len(runs)} runs"
        f" ({', '.join(f'{t:.3f}' for t, _ in runs)}), problems {sorted(problems)}"
    )
    print(f"  {_review_parts(db)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=2000, help="calls with a finished review (2000)")
    parser.add_argument("--reopen", type=int, default=200, help="reviews reopened and finished again (200)")
    parser.add_argument("--verify-runs", type=int, default=3, help="db verify runs (3)")
    parser.add_argument("--url", help="an empty database to use instead of a new SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        source: Any = args.url or Settings(data_dir=Path(tmp))
        upgrade_database(source)
        db = Database.open(source)
        try:
            print(f"backend {db.backend}")
            run(db, args)
        finally:
            db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
