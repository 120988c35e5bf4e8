"""Query times of the QA queue search over N synthetic stored calls, on SQLite and PostgreSQL.

    python benchmarks/bench_qa_search.py [--calls 100000] [--backend sqlite,postgresql]
        [--postgres-url postgresql+psycopg://USER:PASS@HOST:5432/postgres] [--repeat 5]

For each backend a throw-away database is made and migrated (SQLite: a temporary file; PostgreSQL:
a database ``am_bench_<random>`` created on the server named by ``--postgres-url`` or
``AGENT_MONITOR_TEST_POSTGRES_URL`` and dropped afterwards). It is filled with **synthetic** data
(seeded, nothing from the evaluation data): 500 agents in 25 teams, N ended calls over 180 days
(30-900 s long, levels yellow/orange/red), each queued for QA, 3 final utterances per call made of
words from a fixed collection vocabulary (0.5 % of the calls mention "bankruptcy"), 1-2 rule hits
per call from 12 rules, and scored reviews for 20 % of the calls. The rows are written with bulk
inserts (not through the evidence chain), then ``ANALYZE``. The full-text index is filled by the
migration's triggers (SQLite) / the GIN index (PostgreSQL) as the rows go in.

Each query runs through ``repo.search_qa_queue`` (one page of 50 plus the total count) in the QA
role's scope, ``--repeat`` times after one warm-up; the median and the slowest are printed in ms.
The query plan of the transcript search is printed to show it uses the full-text index.
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from sqlalchemy import create_engine, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from agent_monitor.model.levels import WarningLevel  # noqa: E402
from agent_monitor.storage import Database, repo  # noqa: E402
from agent_monitor.storage.engine import database_url  # noqa: E402
from agent_monitor.storage.enums import CallStatus, QaState  # noqa: E402
from agent_monitor.storage.migrate import upgrade_database  # noqa: E402
from agent_monitor.storage.repo import QueueQuery  # noqa: E402
from agent_monitor.storage.search import calls_saying, searchable  # noqa: E402
from agent_monitor.storage.tables import Agent, Call, QaQueueItem, QaReview, RuleHitRow, Utterance  # noqa: E402

T0 = datetime(2026, 6, 1, tzinfo=UTC)
VOCABULARY = (
    "hello this is the collections office calling about your account balance payment due today "
    "we can offer a plan to settle the debt please confirm your name and address thank you for "
    "your time the amount owed is overdue since last month would you like to pay by card or bank "
    "transfer i understand this is difficult let us find a solution that works for you my manager "
    "will call again tomorrow sorry i cannot pay now i lost my job the interest keeps growing"
)
WORDS = VOCABULARY.split()
RULES = [
    ("en-insult-1", "Insulting the debtor"),
    ("en-threat-violence-1", "Threat of violence"),
    ("en-threat-arrest-1", "False threat of arrest"),
    ("en-profanity-1", "Profanity"),
    ("en-third-party-1", "Disclosure to a third party"),
    ("en-mini-miranda-1", "Mini-Miranda missing"),
    ("en-calling-hours-1", "Call outside permitted hours"),
    ("en-frequency-1", "Too many calls in 7 days"),
    ("zh-insult-1", "辱骂债务人"),
    ("zh-threat-1", "威胁"),
    ("zh-privacy-number-1", "泄露身份证号"),
    ("en-harassment-1", "Harassing repetition"),
]
LEVELS = (WarningLevel.YELLOW, WarningLevel.ORANGE, WarningLevel.RED)
BATCH = 5000


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


Rows = dict[type, list[dict[str, Any]]]


def fill(db: Database, calls: int, seed: int = 7) -> None:
    """Bulk-insert the synthetic rows (see the module docstring)."""
    rng = random.Random(seed)
    with db.engine.begin() as conn:
        conn.execute(
            insert(Agent),
            [
                {"id": f"agent-{i:04d}", "name": f"Agent {i}", "team": f"team-{i % 25:02d}", "created_at": T0}
                for i in range(500)
            ],
        )
    ids = {"utterance": 0, "hit": 0}
    for start in range(0, calls, BATCH):
        rows: Rows = {table: [] for table in (Call, QaQueueItem, Utterance, RuleHitRow, QaReview)}
        for n in range(start, min(calls, start + BATCH)):
            _add_call(rows, rng, n, ids)
        with db.engine.begin() as conn:
            for table, table_rows in rows.items():
                if table_rows:
                    conn.execute(insert(table), table_rows)
        print(f"  {min(calls, start + BATCH):>7} calls stored", end="\r", flush=True)
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    print()


def _add_call(rows: Rows, rng: random.Random, n: int, ids: dict[str, int]) -> None:
    """One ended call with its queue entry, three utterances, one or two hits and maybe a review."""
    call_id = f"call-{n:07d}"
    started = T0 - timedelta(seconds=rng.randrange(180 * 86400))
    level = rng.choices(LEVELS, weights=(6, 3, 1))[0]
    rows[Call].append(
        {
            "id": call_id,
            "agent_id": f"agent-{rng.randrange(500):04d}",
            "source_protocol": "ws_ingest",
            "started_at": started,
            "ended_at": started + timedelta(seconds=rng.randrange(30, 900)),
            "status": CallStatus.ENDED,
            "final_level": level,
            "high_sensitivity": False,
            "lang": "en",
        }
    )
    rows[QaQueueItem].append(
        {
            "call_id": call_id,
            "level": level,
            "reason": "synthetic",
            "queued_at": started,
            "state": QaState.PENDING,
            "updated_at": started,
        }
    )
    _add_utterances(rows, rng, call_id, started, ids)
    _add_hits(rows, rng, call_id, started, level, ids)
    if rng.random() < 0.2:
        rows[QaReview].append(
            {
                "call_id": call_id,
                "reviewer": "qa1",
                "scorecard": {},
                "notes": "",
                "score": float(rng.randrange(0, 101)),
                "created_at": started,
                "updated_at": started,
            }
        )


def _add_utterances(rows: Rows, rng: random.Random, call_id: str, started: Any, ids: dict[str, int]) -> None:
    for k in range(3):
        ids["utterance"] += 1
        said = _sentence(rng, 12)
        if k == 1 and rng.random() < 0.005:
            said += " i am filing for bankruptcy"
        rows[Utterance].append(
            {
                "id": ids["utterance"],
                "call_id": call_id,
                "leg": "agent" if k != 1 else "debtor",
                "utterance_no": k,
                "start_s": 5.0 * k,
                "end_s": 5.0 * k + 4.0,
                "text": said,
                "search_text": searchable(said),
                "final": True,
                "lang": "en",
                "updated_at": started,
            }
        )


def _add_hits(
    rows: Rows, rng: random.Random, call_id: str, started: Any, level: Any, ids: dict[str, int]
) -> None:
    for _ in range(rng.choice((1, 1, 2))):
        ids["hit"] += 1
        rule, title = rng.choice(RULES)
        rows[RuleHitRow].append(
            {
                "id": ids["hit"],
                "call_id": call_id,
                "rule_id": rule,
                "title": title,
                "category": "abuse",
                "severity": level.value,
                "evidence": "x",
                "reason": "r",
                "citation": "c",
                "status": "confirmed",
                "created_at": started,
            }
        )


QA_SCOPE = {"status": [CallStatus.ENDED, CallStatus.ABORTED], "levels": list(LEVELS)}
QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("first page, newest first", {}),
    ("transcript: 'bankruptcy' (rare)", {"text": "bankruptcy"}),
    ("transcript: 'settle deb' (common + prefix)", {"text": "settle deb"}),
    (
        "transcript + level red + 30 days",
        {"text": "manager", "levels": [WarningLevel.RED], "since": T0 - timedelta(days=30)},
    ),
    ("call id part 'CALL-00012'", {"call_id": "CALL-00012"}),
    ("agent part 'AGENT-004'", {"agent": "AGENT-004"}),
    ("team 'team-07'", {"team": "team-07"}),
    ("rule part 'insult'", {"rule": "insult"}),
    (
        "level red, 7 days, by duration",
        {"levels": [WarningLevel.RED], "since": T0 - timedelta(days=7), "sort": "duration"},
    ),
    ("sort by score (best first)", {"sort": "score"}),
    ("sort by level", {"sort": "level"}),
    ("page 1000 by date", {"sort": "date", "offset": 50_000}),
]


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    fn()  # warm-up
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), max(times), result


def text_plan(db: Database) -> str:
    with db.session() as s:
        sub = calls_saying(s, "bankruptcy")
        sql = str(sub.compile(s.get_bind(), compile_kwargs={"literal_binds": True}))
        prefix = "EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN "
        rows = s.execute(text(prefix + sql)).all()
    return "\n".join("    " + " ".join(str(c) for c in r) for r in rows)


def bench(url: str, calls: int, repeat: int) -> dict[str, tuple[float, float, int]]:
    upgrade_database(url)
    db = Database.open(url)
    try:
        t = time.perf_counter()
        fill(db, calls)
        print(f"  filled in {time.perf_counter() - t:.0f} s; transcript search plan:\n{text_plan(db)}")
        out = {}
        for name, kw in QUERIES:
            q = QueueQuery(scope=QA_SCOPE, **kw)

            def run(q: QueueQuery = q) -> int:
                with db.session() as s:
                    return repo.search_qa_queue(s, q).total

            med, worst, total = timed(run, repeat)
            out[name] = (med, worst, total)
            print(f"  {name:<44}{med:8.1f} / {worst:8.1f} ms ({total})", flush=True)
        with db.session() as s:
            q = QueueQuery(scope=QA_SCOPE)
            out["next in queue"] = (*timed(lambda: repo.next_in_queue(s, q, "qa1"), repeat)[:2], 1)
        return out
    finally:
        db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--backend", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=os.environ.get("AGENT_MONITOR_TEST_POSTGRES_URL"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    results: dict[str, dict[str, tuple[float, float, int]]] = {}
    for backend in args.backend.split(","):
        print(f"{backend}: {args.calls} synthetic calls")
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                results[backend] = bench(f"sqlite:///{tmp}/bench.db", args.calls, args.repeat)
            continue
        if not args.postgres_url:
            parser.error("--postgres-url (or AGENT_MONITOR_TEST_POSTGRES_URL) is needed for postgresql")
        server = database_url(args.postgres_url)
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        name = f"am_bench_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(server).set(database=name).render_as_string(hide_password=False)
            results[backend] = bench(url, args.calls, args.repeat)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    backends = list(results)
    print(
        f"\nQA queue search over {args.calls} stored calls:"
        f" median / slowest of {args.repeat} runs, ms (matches)"
    )
    print(f"{'query':<44}" + "".join(f"{b:>28}" for b in backends))
    for name in results[backends[0]]:
        cells = []
        for b in backends:
            med, worst, total = results[b][name]
            cells.append(f"{med:8.1f} / {worst:8.1f} ({total:>6})")
        print(f"{name:<44}" + "".join(f"{c:>28}" for c in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
