"""Report query times over 100,000 **synthetic** stored calls, on SQLite and PostgreSQL.

    python benchmarks/bench_reports.py [--calls 100000] [--postgres URL] [--no-postgres]

Fills a throw-away database (SQLite in a temporary folder; on PostgreSQL a new database
``am_bench_<random>`` created with the server URL of ``--postgres`` or
``AGENT_MONITOR_TEST_POSTGRES_URL``, dropped at the end) with synthetic calls of 200 agents in 20
teams over 90 days: a quarter of them with an alert (60% yellow, 30% orange, 10% red; red ones
handed off, 80% of those acknowledged after 5-300 s), a rule hit behind each alert (12 rules),
3% of calls with a Regulation F frequency finding, and a QA review with a scorecard and a verdict
on a tenth of the alerted calls. Rows are bulk-inserted with SQL (the alert hash chain is not
built: the figures are about the report queries only). Then :func:`build_report` is timed
(median of 5 runs, warm cache) for: all teams over 90 days, all teams over the last 7 days, one
team over 90 days.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from agent_monitor.storage import Database, upgrade_database
from agent_monitor.storage.engine import database_url
from agent_monitor.storage.reports import build_report
from agent_monitor.storage.tables import Agent, Alert, Call, Handoff, QaReview, QaVerdict, RuleHitRow

START = datetime(2026, 8, 1, tzinfo=UTC)
DAYS = 90
AGENTS, TEAMS = 200, 20
RULES = [f"EN-RULE-{i}" for i in range(12)]
BATCH = 5000


def synthetic_rows(n_calls: int, seed: int = 0) -> dict[str, list[dict[str, Any]]]:
    rng = random.Random(seed)
    rows: dict[str, list[dict[str, Any]]] = {k: [] for k in ("agents", "calls", "alerts", "handoffs", "hits")}
    rows.update(reviews=[], verdicts=[])
    for a in range(AGENTS):
        rows["agents"].append({"id": f"ag-{a:03d}", "name": f"Agent {a}", "team": f"team-{a % TEAMS:02d}"})
    alert_id = 0
    for c in range(n_calls):
        call_id = f"syn-{c:06d}"
        started = START + timedelta(seconds=rng.uniform(0, DAYS * 86400))
        level = "none"
        if rng.random() < 0.25:
            alert_id += 1
            level = rng.choices(["yellow", "orange", "red"], [6, 3, 1])[0]
            rule = rng.choice(RULES)
            raised = started + timedelta(seconds=rng.uniform(5, 200))
            rows["alerts"].append(_alert(alert_id, call_id, level, rule, raised))
            rows["hits"].append(_hit(call_id, rule, "abuse", level, raised))
            if level == "red":
                acked = raised + timedelta(seconds=rng.uniform(5, 300)) if rng.random() < 0.8 else None
                rows["handoffs"].append(
                    {
                        "call_id": call_id,
                        "alert_id": alert_id,
                        "requested_at": raised,
                        "acknowledged_at": acked,
                    }
                )
            if rng.random() < 0.1:
                _add_review(rows, rng, call_id, alert_id, rule, raised)
        if rng.random() < 0.03:
            rows["hits"].append(_hit(call_id, "US-FREQ-1", "call_frequency", "orange", started))
        rows["calls"].append(
            {
                "id": call_id,
                "agent_id": f"ag-{rng.randrange(AGENTS):03d}",
                "source_protocol": "synthetic",
                "started_at": started,
                "ended_at": started + timedelta(seconds=240),
                "status": "ended",
                "final_level": level,
                "high_sensitivity": False,
                "lang": "en",
            }
        )
    return rows


def _add_review(
    rows: dict[str, list[dict[str, Any]]],
    rng: random.Random,
    call_id: str,
    alert_id: int,
    rule: str,
    raised: datetime,
) -> None:
    """A QA review of the call with a verdict on its alert (rules further down the list are more precise)."""
    review_id = len(rows["reviews"]) + 1
    card = {"greeting": rng.randint(0, 2), "disclosure": rng.randint(0, 2), "tone": rng.randint(0, 2)}
    rows["reviews"].append(
        {
            "id": review_id,
            "call_id": call_id,
            "reviewer": "qa1",
            "scorecard": card,
            "score": round(100.0 * sum(card.values()) / (2 * len(card)), 1),
            "finished_at": raised,
            "notes": "",
            "created_at": raised,
            "updated_at": raised,
        }
    )
    precision = 0.3 + 0.6 * RULES.index(rule) / len(RULES)
    verdict = "confirmed" if rng.random() < precision else "false_alarm"
    rows["verdicts"].append({"review_id": review_id, "alert_id": alert_id, "verdict": verdict})


def _alert(alert_id: int, call_id: str, level: str, rule: str, raised: datetime) -> dict[str, Any]:
    return {
        "id": alert_id,
        "call_id": call_id,
        "level": level,
        "reasons": [{"kind": "rule", "rule": rule}],
        "raised_at_s": 10.0,
        "raised_at": raised,
        "prev_hash": "0" * 64,
        "row_hash": f"{alert_id:064x}",
        "state": "raised",
    }


def _hit(call_id: str, rule: str, category: str, severity: str, at: datetime) -> dict[str, Any]:
    return {
        "call_id": call_id,
        "rule_id": rule,
        "title": rule,
        "category": category,
        "severity": severity,
        "evidence": "synthetic",
        "reason": "synthetic",
        "citation": "synthetic",
        "status": "confirmed",
        "created_at": at,
    }


def fill(db: Database, rows: dict[str, list[dict[str, Any]]]) -> None:
    order = [
        ("agents", Agent),
        ("calls", Call),
        ("alerts", Alert),
        ("handoffs", Handoff),
        ("hits", RuleHitRow),
        ("reviews", QaReview),
        ("verdicts", QaVerdict),
    ]
    with db.session() as s:
        for key, table in order:
            data = rows[key]
            for i in range(0, len(data), BATCH):
                s.execute(insert(table), data[i : i + BATCH])
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))


def timed(job: Callable[[], Any], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        job()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure(name: str, url: str, rows: dict[str, list[dict[str, Any]]]) -> None:
    upgrade_database(url)
    db = Database.open(url)
    try:
        t0 = time.perf_counter()
        fill(db, rows)
        print(f"{name}: filled {len(rows['calls'])} calls in {time.perf_counter() - t0:.1f} s")
        end = START + timedelta(days=DAYS)
        cases = [
            ("all teams, 90 days", START, end, None),
            ("all teams, last 7 days", end - timedelta(days=7), end, None),
            ("one team, 90 days", START, end, "team-03"),
        ]
        for label, since, until, team in cases:
            with db.session() as s:
                report = build_report(s, since, until, team=team)
                seconds = timed(partial(build_report, s, since, until, team=team))
            print(
                f"  {label:24s} {report.calls:7d} calls  {len(report.agents):3d} agents"
                f"  {seconds * 1000:8.1f} ms"
            )
    finally:
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--postgres", default=os.environ.get("AGENT_MONITOR_TEST_POSTGRES_URL"))
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    rows = synthetic_rows(args.calls)
    print(
        f"synthetic: {len(rows['calls'])} calls, {len(rows['alerts'])} alerts, "
        f"{len(rows['hits'])} rule hits, "
        f"{len(rows['handoffs'])} hand-offs, {len(rows['reviews'])} reviews"
    )
    with tempfile.TemporaryDirectory() as tmp:
        measure("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", rows)
    if args.no_postgres:
        return
    if not args.postgres:
        sys.exit(
            "no PostgreSQL server URL (--postgres or AGENT_MONITOR_TEST_POSTGRES_URL); --no-postgres skips it"
        )
    server = make_url(database_url(args.postgres))
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"am_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        measure("PostgreSQL", server.set(database=name).render_as_string(hide_password=False), rows)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
