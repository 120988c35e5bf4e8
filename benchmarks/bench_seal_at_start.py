"""Cost, at a single server's start, of sealing the recordings a crash left open.

    python benchmarks/bench_seal_at_start.py [--calls 50] [--minutes 5]

Stores ``--calls`` calls whose two 8 kHz legs were being recorded when the server died (each
``--minutes`` of audio, the last second past the header's count, as a crash leaves it), marks
them aborted as the start does, then times :func:`seal_left_open` (header repaired, file hashed,
row updated and sealed in the evidence log), SQLite and the files under a temporary folder. The
files were just written, so they are read from the page cache; after a reboot they come from the
disk.
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
from agent_monitor.settings import Settings  # noqa: E402
from agent_monitor.storage import repo  # noqa: E402
from agent_monitor.storage.engine import Database  # noqa: E402
from agent_monitor.storage.migrate import upgrade_database  # noqa: E402
from agent_monitor.storage.recording_seal import seal_left_open  # noqa: E402
from agent_monitor.storage.recordings import RecordingWriter, recording_path  # noqa: E402

RATE = 8000
T0 = datetime(2025, 1, 6, 10, 0, tzinfo=UTC)


def _crashed_calls(db: Database, media: Path, calls: int, minutes: float) -> int:
    """``calls`` calls left live with their recordings open; returns the audio bytes written."""
    second = bytes(range(256)) * (RATE * 2 // 256)  # one second of 16-bit audio (not silence)
    total = 0
    for i in range(calls):
        call_id = f"crashed-{i}"
        with db.session() as s:
            repo.start_call(s, call_id, "A1", source_protocol="ws_ingest", started_at=T0)
            for leg in Leg:
                path = recording_path(media, call_id, leg)
                repo.register_recording(s, call_id, leg, str(path), RATE, started_at=T0)
        for leg in Leg:
            path = recording_path(media, call_id, leg)
            writer = RecordingWriter(path, RATE, flush_interval_s=60.0)
            for _ in range(int(minutes * 60) - 1):
                writer.write(second)
            writer.flush()  # the header counts up to here; the last second is past it
            with path.open("ab") as f:
                f.write(second)
            total += path.stat().st_size
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50, help="calls left live by the crash (default 50)")
    parser.add_argument("--minutes", type=float, default=5.0, help="audio per leg, minutes (default 5)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        upgrade_database(settings)
        db = Database.open(settings)
        try:
            size = _crashed_calls(db, Path(tmp), args.calls, args.minutes)
            with db.session() as s:
                repo.abort_live_calls(s)
            started = time.perf_counter()
            with db.session() as s:
                done = seal_left_open(s, Path(tmp), datetime.now(UTC))
            took = time.perf_counter() - started
        finally:
            db.dispose()
    print(
        f"{len(done.sealed)} recordings sealed ({args.calls} calls, {args.minutes:g} min a leg, "
        f"{size / 1e6:.0f} MB) in {took:.2f} s: {size / 1e6 / took:.0f} MB/s, "
        f"{1000 * took / max(1, len(done.sealed)):.1f} ms a recording; {len(done.problems)} left open"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
