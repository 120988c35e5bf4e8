"""Cost of storing a call's stress readings with their evidence seal, per stored batch.

    python benchmarks/bench_stress_seal.py [--minutes 30] [--batch 10]

One call's debtor stress as the pipeline stores it (one sample a second, ``--batch`` samples per
transaction through ``repo.add_stress_samples``) into a new SQLite database under a temporary
folder. Prints the mean milliseconds per stored batch over the first and the last 10 batches and
the total, so a seal whose cost grows with the call's length shows as a rising last figure.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from agent_monitor.model.audio import Leg  # noqa: E402
from agent_monitor.model.stress import BaselineStatus, StressLevel, StressSample  # noqa: E402
from agent_monitor.settings import Settings  # noqa: E402
from agent_monitor.storage import repo  # noqa: E402
from agent_monitor.storage.engine import Database  # noqa: E402
from agent_monitor.storage.migrate import upgrade_database  # noqa: E402


def _batch(first: int, n: int) -> list[StressSample]:
    return [
        StressSample(float(t), 40.0, StressLevel.NONE, BaselineStatus.RELATIVE, 30.0, 0.7, Leg.DEBTOR)
        for t in range(first, first + n)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="call length (default 30)")
    parser.add_argument("--batch", type=int, default=10, help="samples per stored batch (default 10)")
    args = parser.parse_args()
    batches = max(20, int(args.minutes * 60 / args.batch))
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        upgrade_database(settings)
        db = Database.open(settings)
        try:
            with db.session() as s:
                repo.start_call(
                    s, "c1", "A1", source_protocol="ws_ingest", started_at=datetime(2025, 1, 1, tzinfo=UTC)
                )
            took = []
            for b in range(batches):
                started = time.perf_counter()
                with db.session() as s:
                    repo.add_stress_samples(s, "c1", _batch(b * args.batch, args.batch))
                took.append(time.perf_counter() - started)
        finally:
            db.dispose()
    print(
        f"{batches} batches of {args.batch} samples: first 10 {1000 * sum(took[:10]) / 10:.2f} ms/batch, "
        f"last 10 {1000 * sum(took[-10:]) / 10:.2f} ms/batch, total {sum(took):.2f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
