"""Issue #15 item 1: one message must not exhaust memory. A real ``agent-monitor serve`` process
(real model, SQLite) gets a Twilio timestamp jump of 11.6 days and 300 s of /ws/ingest audio
sent as fast as the socket takes it; its resident memory must grow by less than 100 MB and
``/healthz`` must answer throughout (before the fix: +12.9 GB and +1.06 GB)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from tests.web.attack_support import MB, PeakRss, burst_attack, gap_attack
from tests.web.server_process import ServerProcess

LIMIT_MB = 100


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("attack") / "data").start()
    try:
        yield proc
    finally:
        proc.stop()


def _attack(server: ServerProcess, attack: object) -> tuple[float, PeakRss, str]:
    time.sleep(0.5)
    before = server.rss_bytes()
    with PeakRss(server) as peak:
        outcome = asyncio.run(asyncio.wait_for(attack(server), 120))  # type: ignore[operator]
        time.sleep(2.0)
    return (peak.peak - before) / MB, peak, outcome


def test_twilio_timestamp_jump_stays_bounded(server: ServerProcess) -> None:
    growth, peak, outcome = _attack(server, gap_attack)
    assert growth < LIMIT_MB, f"RSS grew {growth:.0f} MB ({outcome})"
    assert peak.health_failures == 0
    assert outcome.startswith("closed 1000"), outcome


def test_ingest_burst_stays_bounded(server: ServerProcess) -> None:
    growth, peak, outcome = _attack(server, burst_attack)
    assert growth < LIMIT_MB, f"RSS grew {growth:.0f} MB ({outcome})"
    assert peak.health_failures == 0
    assert '"type":"stopped"' in outcome.replace(" ", ""), outcome


def test_server_log_has_no_traceback(server: ServerProcess) -> None:
    assert "Traceback" not in server.log()
