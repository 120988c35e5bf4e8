"""Memory of a real ``agent-monitor serve`` under the gap and burst attacks of issue #15 item 1.

- gap: a Twilio stream whose ``media`` timestamp jumps to ``1000000000`` ms;
- burst: ``/ws/ingest`` receiving 300 s of stereo L16 audio as fast as the socket takes it.

Prints the server's resident memory (VmRSS) before and at its peak during each attack (sampled
every 50 ms for ``--watch`` seconds after the attack) and whether ``/healthz`` answered throughout.

    .venv/bin/python benchmarks/attack_memory.py
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.web.attack_support import MB, PeakRss, burst_attack, gap_attack
from tests.web.server_process import ServerProcess


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--watch", type=float, default=5.0, help="seconds to keep sampling after each attack")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp) / "data").start()
        try:
            for name, attack in (("gap", gap_attack), ("burst", burst_attack)):
                time.sleep(1.0)
                before = server.rss_bytes()
                with PeakRss(server) as peak:
                    outcome = asyncio.run(attack(server))
                    time.sleep(args.watch)
                growth = (peak.peak - before) / MB
                print(
                    f"{name}: RSS before {before / MB:.0f} MB, peak {peak.peak / MB:.0f} MB "
                    f"(+{growth:.0f} MB); /healthz failures {peak.health_failures}; {outcome}"
                )
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
